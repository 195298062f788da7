import { act, cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useAuthStore } from "@/lib/store/authStore";
import { errorReply, fakeApi, testUser } from "@/test/fakeApi";
import { axeViolations } from "@/test/axe";
import { account } from "@/test/social";

const page = vi.hoisted(() => ({ search: "", leaveTo: vi.fn() }));
vi.mock("next/navigation", () => ({ useSearchParams: () => new URLSearchParams(page.search) }));
vi.mock("@/lib/navigate", () => ({ leaveTo: page.leaveTo }));

const { Connections } = await import("./Connections");

const youtube = { status: 200, body: { platforms: [{ id: "youtube", name: "YouTube", configured: true }] } };

beforeEach(() => {
  useAuthStore.setState({ status: "authenticated", accessToken: "token-1", user: testUser, signedOutByUser: false });
  page.search = "";
  page.leaveTo.mockClear();
});
afterEach(cleanup);

async function show() {
  await act(async () => {
    render(<Connections />);
  });
}

async function click(el: HTMLElement) {
  await act(async () => el.click());
}

describe("Connections", () => {
  it("offers to connect a platform that has no account, and goes to the platform's consent page", async () => {
    const net = fakeApi({
      "GET /social-accounts/platforms": youtube,
      "GET /social-accounts": { status: 200, body: { items: [] } },
      "POST /social-accounts/youtube/connect": { status: 200, body: { authorize_url: "https://accounts.example/o/oauth2/auth?state=s1" } },
    });
    await show();

    expect(screen.getByRole("heading", { level: 1, name: "Connections" })).toBeTruthy();
    const row = screen.getByRole("region", { name: "YouTube" });
    expect(within(row).getByText("Not connected")).toBeTruthy();
    await click(within(row).getByRole("button", { name: "Connect YouTube" }));

    const call = net.called("POST", "/social-accounts/youtube/connect")[0];
    expect(call?.headers.authorization).toBe("Bearer token-1");
    expect(page.leaveTo).toHaveBeenCalledWith("https://accounts.example/o/oauth2/auth?state=s1");
  });

  it("never navigates to an authorize URL that is not a web address", async () => {
    fakeApi({
      "GET /social-accounts/platforms": youtube,
      "GET /social-accounts": { status: 200, body: { items: [] } },
      "POST /social-accounts/youtube/connect": { status: 200, body: { authorize_url: "javascript:alert(1)" } },
    });
    await show();

    await click(screen.getByRole("button", { name: "Connect YouTube" }));

    expect(page.leaveTo).not.toHaveBeenCalled();
    expect(screen.getByRole("alert").textContent).toContain("unusable");
  });

  it("shows who is connected, and who needs reconnecting", async () => {
    fakeApi({
      "GET /social-accounts/platforms": youtube,
      "GET /social-accounts": {
        status: 200,
        body: { items: [account("a1", { display_name: "Ada's channel" }), account("a2", { display_name: "Old channel", status: "needs_reconnect" })] },
      },
    });
    await show();

    const row = screen.getByRole("region", { name: "YouTube" });
    expect(within(row).getByText("Connected as Ada's channel")).toBeTruthy();
    expect(within(row).getByText("Needs reconnecting")).toBeTruthy();
    expect(within(row).getByRole("button", { name: "Reconnect YouTube" })).toBeTruthy();
    expect(within(row).queryByRole("button", { name: "Connect YouTube" })).toBeNull();
    expect(await axeViolations()).toEqual([]);
  });

  it("disconnects only after confirmation", async () => {
    const net = fakeApi({
      "GET /social-accounts/platforms": youtube,
      "GET /social-accounts": { status: 200, body: { items: [account("a1", { display_name: "Ada's channel" })] } },
      "DELETE /social-accounts/a1": { status: 204 },
    });
    await show();

    await click(screen.getByRole("button", { name: "Disconnect Ada's channel" }));
    let dialog = screen.getByRole("dialog", { name: "Disconnect Ada's channel?" });
    await click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(net.called("DELETE", "/social-accounts/a1")).toHaveLength(0);

    await click(screen.getByRole("button", { name: "Disconnect Ada's channel" }));
    dialog = screen.getByRole("dialog", { name: "Disconnect Ada's channel?" });
    await click(within(dialog).getByRole("button", { name: "Disconnect" }));

    expect(net.called("DELETE", "/social-accounts/a1")).toHaveLength(1);
    expect(screen.queryByText("Connected as Ada's channel")).toBeNull();
    expect(screen.getByText("Not connected")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Connect YouTube" })).toBeTruthy();
  });

  it("says what went wrong when disconnecting fails, and keeps the account", async () => {
    fakeApi({
      "GET /social-accounts/platforms": youtube,
      "GET /social-accounts": { status: 200, body: { items: [account("a1", { display_name: "Ada's channel" })] } },
      "DELETE /social-accounts/a1": errorReply(500, "internal", "boom"),
    });
    await show();

    await click(screen.getByRole("button", { name: "Disconnect Ada's channel" }));
    const dialog = screen.getByRole("dialog", { name: "Disconnect Ada's channel?" });
    await click(within(dialog).getByRole("button", { name: "Disconnect" }));

    expect(within(dialog).getByRole("alert").textContent).toContain("Something went wrong on our side");
    expect(screen.getByText("Connected as Ada's channel")).toBeTruthy();
  });

  it("says in words how the trip to the platform ended", async () => {
    fakeApi({ "GET /social-accounts/platforms": youtube, "GET /social-accounts": { status: 200, body: { items: [account("a1")] } } });
    page.search = "connected=youtube";
    await show();
    expect(screen.getByRole("status").textContent).toContain("YouTube connected.");
    cleanup();

    page.search = "error=access_denied";
    await show();
    expect(screen.getByRole("alert").textContent).toContain("YouTube access was not granted, so nothing was connected.");
  });

  it("does not offer a platform the server has not set up", async () => {
    fakeApi({
      "GET /social-accounts/platforms": { status: 200, body: { platforms: [{ id: "youtube", name: "YouTube", configured: false }] } },
      "GET /social-accounts": { status: 200, body: { items: [] } },
    });
    await show();

    expect(screen.queryByRole("button", { name: "Connect YouTube" })).toBeNull();
    expect(screen.getByText(/not set up on this server/)).toBeTruthy();
  });
});
