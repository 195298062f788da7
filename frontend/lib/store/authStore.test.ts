import { afterEach, describe, expect, it } from "vitest";
import { announceSignOut, useAuthStore } from "./authStore";

afterEach(() => {
  useAuthStore.setState({ status: "unknown", accessToken: null, user: null, signedOutByUser: false, restoreError: null });
});

describe("the auth store", () => {
  it("keeps the session in memory and forgets it on sign-out", () => {
    useAuthStore.getState().setSession({
      access_token: "t",
      token_type: "Bearer",
      expires_in: 900,
      user: { id: "u", email: "ada@example.com", name: "", email_verified: true, created_at: "2026-11-30T06:00:00Z" },
    });
    expect(useAuthStore.getState()).toMatchObject({ status: "authenticated", accessToken: "t" });
    expect(localStorage.length + sessionStorage.length).toBe(0);
    expect(document.cookie).not.toContain("t");

    useAuthStore.getState().signOutLocal();
    expect(useAuthStore.getState()).toMatchObject({ status: "anonymous", accessToken: null, user: null, signedOutByUser: false });
  });

  it("signs out when another tab of the app signs out", async () => {
    useAuthStore.setState({ status: "authenticated", accessToken: "t" });
    const signedOut = new Promise<void>((resolve) => {
      const stop = useAuthStore.subscribe((s) => {
        if (s.status === "anonymous") {
          stop();
          resolve();
        }
      });
    });

    // Another tab: a second channel of the same name (a channel does not hear its own messages).
    const otherTab = new BroadcastChannel("videofn-auth");
    otherTab.postMessage("signed-out");
    await signedOut;
    otherTab.close();

    expect(useAuthStore.getState()).toMatchObject({ status: "anonymous", signedOutByUser: true });
    expect(typeof announceSignOut).toBe("function");
  });
});
