// The Axios instance against a real HTTP server on 127.0.0.1: what a browser tab does when its
// access token expires while several requests are in flight.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Session } from "@/lib/api/types";
import { restoreSession, useAuthStore } from "@/lib/store/authStore";
import { api, describeError, toApiError } from "./index";

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

let server: Server;
let origin = "";
let seen: Seen[] = [];
let routes = new Map<string, Handler>();

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function session(token: string): Session {
  return {
    access_token: token,
    token_type: "Bearer",
    expires_in: 900,
    user: { id: "0f8b5c1e-1111-4222-8333-444455556666", email: "ada@example.com", name: "Ada", email_verified: true, created_at: "2026-11-30T06:00:00Z" },
  };
}

const expired = { error: { code: "invalid_token", message: "The access token is invalid or expired." } };

function seenAt(method: string, path: string): Seen[] {
  return seen.filter((s) => s.method === method && s.path === path);
}

/** A promise and the function that resolves it: the server waits on events, never on timers. */
function signal(): { done: Promise<void>; fire: () => void } {
  let fire = () => {};
  const done = new Promise<void>((resolve) => {
    fire = resolve;
  });
  return { done, fire };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    seen.push({ method: req.method ?? "GET", path, headers: req.headers });
    req.resume();
    const handler = routes.get(`${req.method} ${path}`);
    if (!handler) return json(res, 404, { error: { code: "not_found", message: "Nothing here." } });
    void handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  api.defaults.baseURL = `${origin}/api`;
  api.defaults.adapter = "fetch";
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen = [];
  routes = new Map();
  useAuthStore.setState({ status: "unknown", accessToken: null, user: null, restoreError: null });
  document.cookie = "csrf_token=csrf-123; path=/";
});

afterEach(() => {
  document.cookie = "csrf_token=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/";
});

describe("when the access token has expired", () => {
  it("ten requests at once share one refresh, and each is retried once and succeeds", async () => {
    useAuthStore.setState({ status: "authenticated", accessToken: "old-token" });
    // The refresh answers only after all ten requests have been refused, so they really overlap.
    const allRefused = signal();
    let refused = 0;
    routes.set("GET /api/videos", (req, res) => {
      if (req.headers.authorization === "Bearer new-token") return json(res, 200, { items: [], next_cursor: null });
      refused++;
      if (refused === 10) allRefused.fire();
      json(res, 401, expired);
    });
    routes.set("POST /api/auth/refresh", async (_req, res) => {
      await allRefused.done;
      json(res, 200, session("new-token"));
    });

    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => api.get(`/videos?page=${i}`)));

    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(seenAt("POST", "/api/auth/refresh")).toHaveLength(1);
    expect(seenAt("GET", "/api/videos")).toHaveLength(20); // each request: once refused, once retried
    expect(seenAt("POST", "/api/auth/refresh")[0]?.headers["x-csrf-token"]).toBe("csrf-123");
    expect(useAuthStore.getState()).toMatchObject({ status: "authenticated", accessToken: "new-token" });
  });

  it("a request refused again after its retry is not retried a second time", async () => {
    useAuthStore.setState({ status: "authenticated", accessToken: "old-token" });
    routes.set("GET /api/users/me", (_req, res) => json(res, 401, expired));
    routes.set("POST /api/auth/refresh", (_req, res) => json(res, 200, session("new-token")));

    const failure = await api.get("/users/me").catch(toApiError);

    expect(failure).toMatchObject({ status: 401, code: "invalid_token" });
    expect(seenAt("GET", "/api/users/me")).toHaveLength(2);
    expect(seenAt("POST", "/api/auth/refresh")).toHaveLength(1);
  });

  it("when the refresh is refused, the person is signed out and every caller sees the 401", async () => {
    useAuthStore.setState({ status: "authenticated", accessToken: "old-token", user: session("old-token").user });
    routes.set("GET /api/videos", (_req, res) => json(res, 401, expired));
    routes.set("POST /api/auth/refresh", (_req, res) =>
      json(res, 401, { error: { code: "invalid_session", message: "The session has expired or was revoked; log in again." } }),
    );

    const failures = await Promise.all([api.get("/videos"), api.get("/videos"), api.get("/videos")].map((p) => p.catch(toApiError)));

    expect(failures.map((f) => "status" in f && f.status)).toEqual([401, 401, 401]);
    expect(seenAt("POST", "/api/auth/refresh")).toHaveLength(1);
    expect(useAuthStore.getState()).toMatchObject({ status: "anonymous", accessToken: null, user: null });
  });

  it("a wrong password on a sign-in form is not mistaken for an expired token", async () => {
    routes.set("POST /api/auth/login", (_req, res) =>
      json(res, 401, { error: { code: "invalid_credentials", message: "The email or password is incorrect." } }),
    );

    const failure = await api.post("/auth/login", { email: "ada@example.com", password: "nope" }).catch(toApiError);

    expect(failure).toMatchObject({ status: 401, code: "invalid_credentials" });
    expect(seenAt("POST", "/api/auth/refresh")).toHaveLength(0);
  });
});

describe("credentials on each request", () => {
  it("sends the CSRF token on POST and not on GET", async () => {
    useAuthStore.setState({ status: "authenticated", accessToken: "token-1" });
    routes.set("POST /api/imports", (_req, res) => json(res, 202, { video_id: "v", status: "queued" }));
    routes.set("GET /api/videos", (_req, res) => json(res, 200, { items: [], next_cursor: null }));

    await api.post("/imports", { url: "https://example.com/a.mp4" });
    await api.get("/videos");

    expect(seenAt("POST", "/api/imports")[0]?.headers["x-csrf-token"]).toBe("csrf-123");
    expect(seenAt("GET", "/api/videos")[0]?.headers["x-csrf-token"]).toBeUndefined();
    expect(seenAt("GET", "/api/videos")[0]?.headers.authorization).toBe("Bearer token-1");
  });

  it("prefers the __Host- cookie when both CSRF cookies exist", async () => {
    // jsdom will not set a __Host- cookie over http, so the cookie string is given as the browser would.
    const { readCsrfToken } = await import("./index");
    expect(readCsrfToken("csrf_token=plain; __Host-csrf_token=secure")).toBe("secure");
    expect(readCsrfToken("other=1")).toBeNull();
  });

  it("never sends the access token or CSRF token outside /api", async () => {
    useAuthStore.setState({ status: "authenticated", accessToken: "secret-token" });
    routes.set("PUT /videos/blob.mp4", (_req, res) => json(res, 201, {}));
    routes.set("GET /apiary", (_req, res) => json(res, 200, {}));

    await api.put(`${origin}/videos/blob.mp4?sv=2025&sig=x`, "bytes");
    await api.get(`${origin}/apiary`);

    for (const s of seen) {
      expect(s.headers.authorization).toBeUndefined();
      expect(s.headers["x-csrf-token"]).toBeUndefined();
    }
    expect(seen).toHaveLength(2);
  });
});

describe("restoring the session on page load", () => {
  it("makes one refresh even when called twice at once (React strict mode)", async () => {
    const asked = signal();
    routes.set("POST /api/auth/refresh", async (_req, res) => {
      await asked.done;
      json(res, 200, session("restored"));
    });

    const both = Promise.all([restoreSession(), restoreSession()]);
    asked.fire();

    expect(await both).toEqual([true, true]);
    expect(await restoreSession()).toBe(true); // already known: no third call
    expect(seenAt("POST", "/api/auth/refresh")).toHaveLength(1);
    expect(useAuthStore.getState()).toMatchObject({ status: "authenticated", accessToken: "restored", user: { name: "Ada" } });
  });

  it("without a session cookie the person is anonymous", async () => {
    routes.set("POST /api/auth/refresh", (_req, res) =>
      json(res, 401, { error: { code: "invalid_session", message: "No session." } }),
    );

    expect(await restoreSession()).toBe(false);
    expect(useAuthStore.getState().status).toBe("anonymous");
  });
});

describe("errors in words", () => {
  it("keeps the fields of a validation error", async () => {
    routes.set("POST /api/auth/register", (_req, res) =>
      json(res, 422, { error: { code: "validation_failed", message: "Some fields are invalid.", fields: { email: "must be a valid email address" } } }),
    );

    const e = await api.post("/auth/register", { email: "x", password: "p" }).catch(toApiError);

    expect(e).toEqual({
      status: 422,
      code: "validation_failed",
      message: "Some fields are invalid.",
      fields: { email: "must be a valid email address" },
      retryAfterSeconds: null,
    });
  });

  it("says when to try again after 429", async () => {
    routes.set("POST /api/auth/login", (_req, res) =>
      json(res, 429, { error: { code: "rate_limited", message: "Too many requests; try again later." } }, { "Retry-After": "7" }),
    );

    const e = toApiError(await api.post("/auth/login", { email: "a@b.c", password: "x" }).catch((err: unknown) => err));

    expect(e).toMatchObject({ status: 429, retryAfterSeconds: 7 });
    expect(describeError(e)).toContain("Try again in 7 s");
  });

  it("reports an unreachable server as a network error", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const e = await api.get(`http://127.0.0.1:${port}/api/videos`).catch(toApiError);

    expect(e).toMatchObject({ status: 0, code: "network_error" });
    expect(describeError(toApiError(e))).toMatch(/could not reach the server/i);
  });
});

describe("when the server cannot answer on page load", () => {
  it("does not sign the person out, says why, and can try again", async () => {
    let available = false;
    routes.set("POST /api/auth/refresh", (_req, res) =>
      available
        ? json(res, 200, session("restored"))
        : json(res, 503, { error: { code: "unavailable", message: "Busy." } }, { "Retry-After": "5" }),
    );

    expect(await restoreSession()).toBe(false);
    expect(useAuthStore.getState()).toMatchObject({ status: "unknown", restoreError: expect.stringContaining("Try again in 5 s") });

    available = true;
    expect(await restoreSession()).toBe(true);
    expect(useAuthStore.getState()).toMatchObject({ status: "authenticated", restoreError: null });
  });
});
