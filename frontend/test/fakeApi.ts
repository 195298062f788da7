// A stand-in for the network in component tests: the real `api` instance (interceptors included)
// with an adapter that answers from a table of routes and records what was asked.
import type { AxiosAdapter, AxiosResponse, InternalAxiosRequestConfig } from "axios";
import { api } from "@/lib/axios";

export interface Call {
  method: string;
  url: string;
  body: unknown;
  headers: Record<string, string>;
  /** The query parameters given as `params`. */
  params: Record<string, unknown>;
}

export type Reply = { status: number; body?: unknown; headers?: Record<string, string> };
type Route = (call: Call) => Reply | Promise<Reply>;

export function fakeApi(routes: Record<string, Route | Reply>) {
  const calls: Call[] = [];
  const adapter: AxiosAdapter = async (config: InternalAxiosRequestConfig) => {
    const url = (config.url ?? "").split("?")[0] ?? "";
    const method = (config.method ?? "get").toUpperCase();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(config.headers.toJSON())) if (typeof v === "string") headers[k.toLowerCase()] = v;
    const params = (config.params ?? {}) as Record<string, unknown>;
    const call: Call = { method, url, body: typeof config.data === "string" ? JSON.parse(config.data) : config.data, headers, params };
    calls.push(call);
    const route = routes[`${method} ${url}`];
    const reply: Reply = !route
      ? { status: 404, body: { error: { code: "not_found", message: "Not found." } } }
      : typeof route === "function"
        ? await route(call)
        : route;
    const response: AxiosResponse = {
      data: reply.body ?? "",
      status: reply.status,
      statusText: String(reply.status),
      headers: reply.headers ?? {},
      config,
    };
    const validate = config.validateStatus ?? ((s: number) => s >= 200 && s < 300);
    if (validate(reply.status)) return response;
    const { AxiosError } = await import("axios");
    throw new AxiosError(`Request failed with status code ${reply.status}`, "ERR_BAD_RESPONSE", config, null, response);
  };
  api.defaults.adapter = adapter;
  return {
    calls,
    called: (method: string, url: string) => calls.filter((c) => c.method === method && c.url === url),
  };
}

export const testUser = {
  id: "0f8b5c1e-1111-4222-8333-444455556666",
  email: "ada@example.com",
  name: "Ada Lovelace",
  email_verified: true,
  created_at: "2026-11-30T06:00:00Z",
};

export function sessionReply(token = "token-1", user = testUser): Reply {
  return { status: 200, body: { access_token: token, token_type: "Bearer", expires_in: 900, user } };
}

export function errorReply(status: number, code: string, message = "", fields?: Record<string, string>, headers?: Record<string, string>): Reply {
  return { status, body: { error: { code, message, ...(fields ? { fields } : {}) } }, headers };
}
