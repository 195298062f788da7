import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useAuthStore } from "@/lib/store/authStore";
import { errorReply, fakeApi, testUser } from "@/test/fakeApi";
import SettingsPage from "@/app/(main-app)/settings/page";

const nav = vi.hoisted(() => ({ replace: vi.fn() }));
vi.mock("next/navigation", () => ({
  useRouter: () => ({ replace: nav.replace, push: vi.fn(), prefetch: vi.fn() }),
}));

beforeEach(() => {
  useAuthStore.setState({ status: "authenticated", accessToken: "token-1", user: testUser, signedOutByUser: false });
  nav.replace.mockClear();
});
afterEach(cleanup);

async function click(name: string) {
  await act(async () => {
    fireEvent.click(screen.getByRole("button", { name }));
  });
}

describe("settings", () => {
  it("saves the display name", async () => {
    const net = fakeApi({ "PATCH /users/me": ({ body }) => ({ status: 200, body: { user: { ...testUser, ...(body as object) } } }) });
    render(<SettingsPage />);

    fireEvent.change(screen.getByLabelText("Display name"), { target: { value: "  Ada King " } });
    await click("Save name");

    expect(net.called("PATCH", "/users/me")[0]?.body).toEqual({ name: "Ada King" });
    expect(screen.getByText("Name saved")).toBeTruthy();
    expect(useAuthStore.getState().user?.name).toBe("Ada King");
  });

  it("changes the password, and says so next to the field when the current one is wrong", async () => {
    const net = fakeApi({
      "POST /auth/password/change": errorReply(422, "validation_failed", "Some fields are invalid.", { current_password: "is not correct" }),
    });
    render(<SettingsPage />);

    fireEvent.change(screen.getByLabelText("Current password"), { target: { value: "old one" } });
    fireEvent.change(screen.getByLabelText("New password"), { target: { value: "a much better one" } });
    await click("Change password");

    expect(net.called("POST", "/auth/password/change")[0]?.body).toEqual({ current_password: "old one", new_password: "a much better one" });
    expect(screen.getByLabelText("Current password").getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByText("Current password is not correct.")).toBeTruthy();
  });

  it("signs out here: ends the session on the server, forgets it, goes to sign in", async () => {
    const net = fakeApi({ "POST /auth/logout": { status: 204 } });
    render(<SettingsPage />);

    await click("Sign out");

    expect(net.called("POST", "/auth/logout")).toHaveLength(1);
    expect(useAuthStore.getState()).toMatchObject({ status: "anonymous", accessToken: null, signedOutByUser: true });
    expect(nav.replace).toHaveBeenCalledWith("/auth/login");
  });

  it("signs out everywhere: revokes every session, then this one", async () => {
    const net = fakeApi({ "POST /auth/logout-all": { status: 204 }, "POST /auth/logout": { status: 204 } });
    render(<SettingsPage />);

    await click("Sign out everywhere");

    expect(net.calls.map((c) => `${c.method} ${c.url}`)).toEqual(["POST /auth/logout-all", "POST /auth/logout"]);
    expect(net.called("POST", "/auth/logout-all")[0]?.headers.authorization).toBe("Bearer token-1");
    expect(useAuthStore.getState().status).toBe("anonymous");
    expect(nav.replace).toHaveBeenCalledWith("/auth/login");
  });
});
