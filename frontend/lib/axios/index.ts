// The one Axios instance every API call goes through, and the only place that knows about
// tokens: Authorization from the in-memory auth store, X-CSRF-Token from the CSRF cookie on
// state-changing calls, and one shared refresh when the access token has expired.
//
// Uploads to Blob Storage do not use `api`: a SAS URL must never receive the Authorization header.
import axios, { AxiosHeaders, type AxiosError, type AxiosInstance, type InternalAxiosRequestConfig } from "axios";
import type { ApiErrorBody, Session } from "@/lib/api/types";
import { useAuthStore } from "@/lib/store/authStore";

declare module "axios" {
  interface AxiosRequestConfig {
    /** Do not answer a 401 with a refresh (the refresh call itself, sign-in forms...). */
    skipAuthRefresh?: boolean;
    /** Set on the retry after a refresh, so a request is retried at most once. */
    _authRetried?: boolean;
    /** The access token this request was sent with (to tell whether a refresh happened since). */
    _sentToken?: string | null;
  }
}

/** The CSRF cookie: `__Host-csrf_token` over HTTPS, `csrf_token` on plain-HTTP development runs. */
export const CSRF_COOKIE_NAMES = ["__Host-csrf_token", "csrf_token"] as const;
export const CSRF_HEADER = "X-CSRF-Token";

const STATE_CHANGING = new Set(["post", "put", "patch", "delete"]);

/**
 * Routes whose 401 means "these credentials are wrong", not "the access token expired": a refresh
 * cannot help them, and refreshing there could end a session the form is trying to start.
 */
const NO_REFRESH_PATHS = [
  "/auth/login",
  "/auth/refresh",
  "/auth/logout",
  "/auth/register",
  "/auth/setup-session",
  "/auth/verify-email",
  "/auth/resend-verification",
  "/auth/password/forgot",
  "/auth/password/reset",
];

export const api: AxiosInstance = axios.create({
  baseURL: "/api",
  withCredentials: true,
  headers: { Accept: "application/json" },
  timeout: 30_000,
});

/** The value of the CSRF cookie, or null when there is none. */
export function readCsrfToken(cookie: string = typeof document === "undefined" ? "" : document.cookie): string | null {
  const jar = new Map<string, string>();
  for (const part of cookie.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!jar.has(name)) jar.set(name, part.slice(eq + 1).trim());
  }
  for (const name of CSRF_COOKIE_NAMES) {
    const value = jar.get(name);
    if (value) {
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }
  }
  return null;
}

function currentOrigin(): string {
  return typeof window === "undefined" ? "http://localhost" : window.location.href;
}

/**
 * The request's path below the instance's base URL ("/videos?limit=20"), or null when the request
 * goes anywhere else (another origin, a path outside /api): such requests get no credentials.
 */
function apiPath(config: InternalAxiosRequestConfig): string | null {
  try {
    const base = new URL(config.baseURL ?? api.defaults.baseURL ?? "/api", currentOrigin());
    const full = new URL(api.getUri({ ...config, params: undefined }), currentOrigin());
    const basePath = base.pathname.replace(/\/+$/, "");
    if (full.origin !== base.origin) return null;
    if (full.pathname !== basePath && !full.pathname.startsWith(`${basePath}/`)) return null;
    return full.pathname.slice(basePath.length) || "/";
  } catch {
    return null;
  }
}

api.interceptors.request.use((config) => {
  const path = apiPath(config);
  const headers = AxiosHeaders.from(config.headers);
  config.headers = headers;
  if (path === null) {
    // Not our API: never send our credentials there.
    headers.delete("Authorization");
    headers.delete(CSRF_HEADER);
    config.withCredentials = false;
    return config;
  }
  const token = useAuthStore.getState().accessToken;
  config._sentToken = token;
  if (token) headers.set("Authorization", `Bearer ${token}`);
  else headers.delete("Authorization");
  if (STATE_CHANGING.has((config.method ?? "get").toLowerCase())) {
    const csrf = readCsrfToken();
    if (csrf) headers.set(CSRF_HEADER, csrf);
  } else {
    headers.delete(CSRF_HEADER);
  }
  return config;
});

let refreshing: Promise<string | null> | null = null;

/**
 * Exchanges the refresh cookie for a new access token. Every caller until it answers shares the
 * same request: the server rotates the cookie, so a second refresh in parallel would present a
 * token that was just replaced. Resolves to the new token, or null: signed out locally when the
 * server refused (401, 403), left as it was when no verdict came (offline, 5xx, 429).
 */
export function refreshAccessToken(): Promise<string | null> {
  refreshing ??= (async () => {
    try {
      const { data } = await api.post<Session>("/auth/refresh", undefined, { skipAuthRefresh: true });
      useAuthStore.getState().setSession(data);
      return data.access_token;
    } catch (err) {
      const e = toApiError(err);
      const store = useAuthStore.getState();
      if (e.status === 0 || e.status === 429 || e.status >= 500) {
        // No verdict on the session (offline, overloaded): do not sign out over a network hiccup.
        if (store.status === "unknown") store.setRestoreError(describeError(e));
        return null;
      }
      store.signOutLocal();
      return null;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

api.interceptors.response.use(undefined, async (error: unknown) => {
  if (!axios.isAxiosError(error) || !error.config || error.response?.status !== 401) throw error;
  const config = error.config;
  if (config.skipAuthRefresh || config._authRetried) throw error;
  const path = apiPath(config);
  if (path === null || NO_REFRESH_PATHS.some((p) => path === p || path.startsWith(`${p}?`))) throw error;
  if (errorBody(error.response.data)?.error.code === "invalid_credentials") throw error;

  config._authRetried = true;
  // A request that left with an older token than the store holds now only needs the new one:
  // somebody else has refreshed already.
  const current = useAuthStore.getState().accessToken;
  const token = current && current !== config._sentToken ? current : await refreshAccessToken();
  if (!token) throw error;
  return api.request(config);
});

/** An API failure in the terms the UI needs. */
export interface ApiError {
  /** HTTP status; 0 when no answer arrived (offline, DNS, CORS, timeout, cancelled). */
  status: number;
  /** The API's `error.code` (snake_case), or "network_error", "timeout", "canceled", "unknown_error". */
  code: string;
  /** The API's sentence, or ours when there is none. */
  message: string;
  /** Problems by field name (`error.fields`), empty unless the request failed validation. */
  fields: Record<string, string>;
  /** From Retry-After on 429 and 503, in seconds; null otherwise. */
  retryAfterSeconds: number | null;
}

function errorBody(data: unknown): ApiErrorBody | null {
  if (typeof data !== "object" || data === null || !("error" in data)) return null;
  const inner: unknown = data.error;
  if (typeof inner !== "object" || inner === null) return null;
  const code = "code" in inner && typeof inner.code === "string" ? inner.code : "";
  const message = "message" in inner && typeof inner.message === "string" ? inner.message : "";
  const fields: Record<string, string> = {};
  if ("fields" in inner && typeof inner.fields === "object" && inner.fields !== null) {
    for (const [k, v] of Object.entries(inner.fields)) if (typeof v === "string") fields[k] = v;
  }
  return { error: { code, message, fields } };
}

/** Retry-After as seconds: a number of seconds or an HTTP date (RFC 9110); null when absent or unreadable. */
export function parseRetryAfter(value: unknown, now: number = Date.now()): number | null {
  if (typeof value !== "string" && typeof value !== "number") return null;
  const text = String(value).trim();
  if (text === "") return null;
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

function isApiError(e: unknown): e is ApiError {
  return (
    typeof e === "object" &&
    e !== null &&
    !(e instanceof Error) &&
    "status" in e &&
    typeof e.status === "number" &&
    "code" in e &&
    typeof e.code === "string" &&
    "fields" in e
  );
}

const STATUS_CODES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  413: "body_too_large",
  422: "validation_failed",
  429: "rate_limited",
  503: "unavailable",
};

/** Maps anything a call can throw to an ApiError. */
export function toApiError(err: unknown): ApiError {
  if (isApiError(err)) return err;
  if (axios.isAxiosError(err)) return fromAxiosError(err);
  if (err instanceof DOMException && err.name === "AbortError") {
    return { status: 0, code: "canceled", message: "The request was cancelled.", fields: {}, retryAfterSeconds: null };
  }
  return {
    status: 0,
    code: "unknown_error",
    message: err instanceof Error && err.message ? err.message : "Something went wrong.",
    fields: {},
    retryAfterSeconds: null,
  };
}

function fromAxiosError(err: AxiosError): ApiError {
  const res = err.response;
  if (!res) {
    if (axios.isCancel(err) || err.code === "ERR_CANCELED") {
      return { status: 0, code: "canceled", message: "The request was cancelled.", fields: {}, retryAfterSeconds: null };
    }
    const timeout = err.code === "ECONNABORTED" || err.code === "ETIMEDOUT";
    return {
      status: 0,
      code: timeout ? "timeout" : "network_error",
      message: timeout ? "The server took too long to answer." : "Could not reach the server.",
      fields: {},
      retryAfterSeconds: null,
    };
  }
  const body = errorBody(res.data);
  const retry = res.status === 429 || res.status === 503 ? parseRetryAfter(res.headers["retry-after"]) : null;
  return {
    status: res.status,
    code: body?.error.code || STATUS_CODES[res.status] || `http_${res.status}`,
    message: body?.error.message || res.statusText || `The server answered ${res.status}.`,
    fields: body?.error.fields ?? {},
    retryAfterSeconds: retry,
  };
}

function retryHint(e: ApiError): string {
  return e.retryAfterSeconds !== null ? `Try again in ${Math.max(1, e.retryAfterSeconds)} s.` : "Try again in a moment.";
}

/** A sentence for people, for an alert or a toast. */
export function describeError(e: ApiError): string {
  switch (e.code) {
    case "network_error":
      return "Could not reach the server. Check your connection and try again.";
    case "timeout":
      return "The server took too long to answer. Try again.";
    case "canceled":
      return "The request was cancelled.";
    case "invalid_credentials":
      return "The email or password is incorrect.";
    case "email_not_verified":
      return "Verify your email address first: open the link in the email we sent you.";
    case "invalid_token":
      return e.status === 401
        ? "Your session has ended. Sign in again."
        : "This link is invalid, has expired or was already used.";
    case "invalid_session":
      return "Your session has ended. Sign in again.";
    case "csrf_failed":
    case "cross_site_request":
      return "This request could not be confirmed as coming from this app. Reload the page and try again.";
    case "validation_failed":
      return Object.keys(e.fields).length > 0 ? "Some fields need attention." : e.message || "Some values are invalid.";
    case "oauth_disabled":
      return "Google sign-in is not available.";
  }
  if (e.status === 429) return `Too many attempts. ${retryHint(e)}`;
  if (e.status === 503) return `The service is busy or briefly unavailable. ${retryHint(e)}`;
  if (e.status >= 500) return "Something went wrong on our side. Try again in a moment.";
  if (e.status === 413) return "That is too large for the server to accept.";
  if (e.message) return /[.!?]$/.test(e.message) ? e.message : `${e.message}.`;
  return "Something went wrong.";
}

/**
 * The problem with one field, as a sentence to show under it: the API says "must be a valid email
 * address" about `email`, the form shows "Email must be a valid email address."
 */
export function fieldError(e: ApiError | null | undefined, field: string, label: string): string | undefined {
  const problem = e?.fields[field];
  if (!problem) return undefined;
  const sentence = /^[A-Z]/.test(problem) ? problem : `${label} ${problem}`;
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}
