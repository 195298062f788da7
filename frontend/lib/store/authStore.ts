import { create } from "zustand";
import type { Session, User } from "@/lib/api/types";
import { refreshAccessToken } from "@/lib/axios";

export type AuthStatus = "unknown" | "authenticated" | "anonymous";

export interface AuthState {
  /** "unknown" until the first refresh on page load has answered. */
  status: AuthStatus;
  /** The access token lives here, in memory only: never in web storage or a readable cookie. */
  accessToken: string | null;
  user: User | null;
  /** True after the person signed out themselves (not after an expired session): no "come back" link. */
  signedOutByUser: boolean;
  /**
   * Why the session could not be restored on page load when the server did not answer (offline,
   * 5xx, 429): the status stays "unknown" (it is not known!) and the gate offers to try again.
   */
  restoreError: string | null;
  setRestoreError(message: string | null): void;
  setSession(s: Session): void;
  setUser(u: User): void;
  /** Forgets the session in this tab (the server side is the caller's business). */
  signOutLocal(opts?: { byUser?: boolean }): void;
}

export const useAuthStore = create<AuthState>()((set) => ({
  status: "unknown",
  accessToken: null,
  user: null,
  signedOutByUser: false,
  restoreError: null,
  setRestoreError: (message) => set({ restoreError: message }),
  setSession: (s) =>
    set({ status: "authenticated", accessToken: s.access_token, user: s.user, signedOutByUser: false, restoreError: null }),
  setUser: (u) => set({ user: u }),
  signOutLocal: (opts) =>
    set({ status: "anonymous", accessToken: null, user: null, signedOutByUser: opts?.byUser ?? false, restoreError: null }),
}));

/**
 * Restores the session on page load with one refresh call (the HttpOnly refresh cookie is all the
 * browser keeps). Callers at the same time share that call: React strict mode runs effects twice,
 * and a second refresh with the cookie the first one just rotated would look like token reuse.
 * Resolves true when signed in; false when signed out, or when the server could not be reached
 * (then `restoreError` says why and the status stays "unknown").
 */
export async function restoreSession(): Promise<boolean> {
  const { status, setRestoreError } = useAuthStore.getState();
  if (status !== "unknown") return status === "authenticated";
  setRestoreError(null);
  const token = await refreshAccessToken();
  return token !== null;
}

// Signing out in one tab signs out the others at once, instead of when their access token expires.
const channel = typeof window !== "undefined" && typeof BroadcastChannel !== "undefined" ? new BroadcastChannel("videofn-auth") : null;
channel?.addEventListener("message", (e: MessageEvent<unknown>) => {
  if (e.data === "signed-out" && useAuthStore.getState().status === "authenticated") {
    useAuthStore.getState().signOutLocal({ byUser: true });
  }
});

/** Tells the app's other tabs that this browser has signed out. */
export function announceSignOut(): void {
  channel?.postMessage("signed-out");
}
