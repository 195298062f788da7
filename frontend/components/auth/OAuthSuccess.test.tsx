import { act, cleanup, render, screen } from "@testing-library/react";
import { StrictMode } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

const nav = vi.hoisted(() => ({ replace: vi.fn() }));
vi.mock("next/navigation", () => ({
  useRouter: () => ({ replace: nav.replace, push: vi.fn(), prefetch: vi.fn() }),
}));

// The exchange is shared per page load (strict mode), so each test loads the modules afresh.
beforeEach(() => {
  vi.resetModules();
  nav.replace.mockClear();
  document.cookie = "csrf_token=pre-session-csrf; path=/";
});
afterEach(() => {
  cleanup();
  document.cookie = "csrf_token=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/";
  sessionStorage.clear();
});

async function load() {
  const { fakeApi, sessionReply } = await import("@/test/fakeApi");
  const { OAuthSuccess } = await import("./OAuthSuccess");
  const { useAuthStore } = await import("@/lib/store/authStore");
  return { fakeApi, sessionReply, OAuthSuccess, useAuthStore };
}

describe("coming back from Google", () => {
  it("removes the code from the address before exchanging it once, then opens the library", async () => {
    window.history.replaceState(null, "", "/auth/oauth/success/#code=one-time-code");
    const { fakeApi, sessionReply, OAuthSuccess, useAuthStore } = await load();
    const hashAtExchange: string[] = [];
    const net = fakeApi({
      "POST /auth/setup-session": () => {
        hashAtExchange.push(window.location.hash);
        return sessionReply("google-token");
      },
    });

    await act(async () => {
      render(
        <StrictMode>
          <OAuthSuccess />
        </StrictMode>,
      );
    });

    expect(hashAtExchange).toEqual([""]);
    expect(window.location.href).toBe("http://localhost:3000/auth/oauth/success/");
    const [exchange] = net.called("POST", "/auth/setup-session");
    expect(exchange?.body).toEqual({ code: "one-time-code" });
    expect(exchange?.headers["x-csrf-token"]).toBe("pre-session-csrf");
    expect(useAuthStore.getState()).toMatchObject({ status: "authenticated", accessToken: "google-token" });
    expect(nav.replace).toHaveBeenCalledWith("/library");
  });

  it("returns to the page that was asked for before leaving for Google", async () => {
    sessionStorage.setItem("videofn.next", "/upload");
    window.history.replaceState(null, "", "/auth/oauth/success/#code=c");
    const { fakeApi, sessionReply, OAuthSuccess } = await load();
    fakeApi({ "POST /auth/setup-session": sessionReply() });

    await act(async () => {
      render(<OAuthSuccess />);
    });

    expect(nav.replace).toHaveBeenCalledWith("/upload");
  });

  it("explains a refusal in words and offers to sign in", async () => {
    window.history.replaceState(null, "", "/auth/oauth/success/#error=access_denied");
    const { fakeApi, OAuthSuccess } = await load();
    const net = fakeApi({});

    await act(async () => {
      render(<OAuthSuccess />);
    });

    expect(screen.getByRole("heading", { name: "Google sign-in failed" })).toBeTruthy();
    expect(screen.getByText("You cancelled the sign-in at Google.")).toBeTruthy();
    expect(screen.getByRole("link", { name: "Sign in" })).toBeTruthy();
    expect(window.location.hash).toBe("");
    expect(net.calls).toHaveLength(0);
  });
});
