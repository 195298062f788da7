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
  setSession: (s) => set({ status: "authenticated", accessToken: s.access_token, user: s.user, signedOutByUser: false }),
  setUser: (u) => set({ user: u }),
  signOutLocal: (opts) =>
    set({ status: "anonymous", accessToken: null, user: null, signedOutByUser: opts?.byUser ?? false }),
}));

/**
 * Restores the session on page load with one refresh call (the HttpOnly refresh cookie is all the
 * browser keeps). Callers at the same time share that call: React strict mode runs effects twice,
 * and a second refresh with the cookie the first one just rotated would look like token reuse.
 * Resolves true when signed in.
 */
export async function restoreSession(): Promise<boolean> {
  const { status } = useAuthStore.getState();
  if (status !== "unknown") return status === "authenticated";
  const token = await refreshAccessToken();
  return token !== null;
}
