// Where to go after signing in. `next` comes from the URL, so anyone can craft it: only a path on
// this origin is followed (no "//evil.example", no "https://...", no "/\\evil"), never back into /auth.

export const DEFAULT_AFTER_SIGN_IN = "/library";
const REMEMBERED_NEXT = "videofn.next";

export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return DEFAULT_AFTER_SIGN_IN;
  if (typeof window === "undefined") return DEFAULT_AFTER_SIGN_IN;
  try {
    const url = new URL(next, window.location.origin);
    if (url.origin !== window.location.origin) return DEFAULT_AFTER_SIGN_IN;
    if (url.pathname === "/" || url.pathname.startsWith("/auth/") || url.pathname === "/auth") return DEFAULT_AFTER_SIGN_IN;
    return url.pathname + url.search + url.hash;
  } catch {
    return DEFAULT_AFTER_SIGN_IN;
  }
}

/**
 * Keeps `next` across the round trip to Google (a path is not a secret, so session storage is fine:
 * tokens never go there).
 */
export function rememberNext(next: string): void {
  try {
    sessionStorage.setItem(REMEMBERED_NEXT, next);
  } catch {
    // Storage can be disabled; then the person lands on the library.
  }
}

export function takeRememberedNext(): string {
  try {
    const next = sessionStorage.getItem(REMEMBERED_NEXT);
    sessionStorage.removeItem(REMEMBERED_NEXT);
    return safeNext(next);
  } catch {
    return DEFAULT_AFTER_SIGN_IN;
  }
}
