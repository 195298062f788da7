import { act, cleanup, render, screen, within } from "@testing-library/react";
import { StrictMode } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useAuthStore } from "@/lib/store/authStore";
import { errorReply, fakeApi, sessionReply } from "@/test/fakeApi";
import MainAppLayout from "./layout";

const nav = vi.hoisted(() => ({ replace: vi.fn(), pathname: "/settings" }));
vi.mock("next/navigation", () => ({
  useRouter: () => ({ replace: nav.replace, push: vi.fn(), prefetch: vi.fn() }),
  usePathname: () => nav.pathname,
}));

function deferred<T>() {
  let resolve: (v: T) => void = () => {};
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

beforeEach(() => {
  useAuthStore.setState({ status: "unknown", accessToken: null, user: null, signedOutByUser: false, restoreError: null });
  nav.replace.mockClear();
  window.history.replaceState(null, "", "/settings?tab=password");
});
afterEach(cleanup);

describe("opening a signed-in page", () => {
  it("shows the shell's skeleton while the session is restored with one refresh, even in strict mode", async () => {
    const answer = deferred<ReturnType<typeof sessionReply>>();
    const net = fakeApi({ "POST /auth/refresh": () => answer.promise });

    render(
      <StrictMode>
        <MainAppLayout>
          <h1>Settings</h1>
        </MainAppLayout>
      </StrictMode>,
    );

    expect(screen.getByText("Loading your session…")).toBeTruthy();
    expect(screen.queryByRole("heading", { name: "Settings" })).toBeNull();
    expect(screen.queryByRole("heading", { name: "Sign in" })).toBeNull();

    await act(async () => answer.resolve(sessionReply()));

    expect(screen.getByRole("heading", { name: "Settings" })).toBeTruthy();
    const mainNav = screen.getByRole("navigation", { name: "Main" });
    for (const name of ["Library", "Upload", "Import", "Settings"]) {
      expect(within(mainNav).getByRole("link", { name })).toBeTruthy();
    }
    expect(within(mainNav).getByRole("link", { name: "Settings" }).getAttribute("aria-current")).toBe("page");
    expect(screen.getByText("Ada Lovelace")).toBeTruthy();
    expect(net.called("POST", "/auth/refresh")).toHaveLength(1);
    expect(nav.replace).not.toHaveBeenCalled();
  });

  it("without a session, sends the person to sign in and remembers the page they asked for", async () => {
    fakeApi({ "POST /auth/refresh": errorReply(401, "invalid_session", "No session.") });

    await act(async () => {
      render(
        <MainAppLayout>
          <h1>Settings</h1>
        </MainAppLayout>,
      );
    });

    expect(nav.replace).toHaveBeenCalledWith("/auth/login?next=%2Fsettings%3Ftab%3Dpassword");
    expect(screen.queryByRole("heading", { name: "Settings" })).toBeNull();
  });

  it("after signing out on purpose, goes to the sign-in page without a way back", async () => {
    useAuthStore.setState({ status: "anonymous", signedOutByUser: true });
    fakeApi({});

    await act(async () => {
      render(<MainAppLayout>page</MainAppLayout>);
    });

    expect(nav.replace).toHaveBeenCalledWith("/auth/login");
  });

  it("when the server cannot be reached, says so instead of sending the person to sign in, and retries on request", async () => {
    let up = false;
    const net = fakeApi({ "POST /auth/refresh": () => (up ? sessionReply() : { status: 503, body: {}, headers: { "retry-after": "3" } }) });

    await act(async () => {
      render(
        <MainAppLayout>
          <h1>Settings</h1>
        </MainAppLayout>,
      );
    });

    expect(screen.getByRole("heading", { name: "We could not reach Videofn" })).toBeTruthy();
    expect(screen.getByRole("status").textContent).toContain("Try again in 3 s");
    expect(nav.replace).not.toHaveBeenCalled();

    up = true;
    await act(async () => {
      screen.getByRole("button", { name: "Try again" }).click();
    });

    expect(screen.getByRole("heading", { name: "Settings" })).toBeTruthy();
    expect(net.called("POST", "/auth/refresh")).toHaveLength(2);
  });
});
