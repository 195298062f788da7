import { act, cleanup, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

// The providers answer is cached per page load, so each test loads the modules afresh.
beforeEach(() => {
  vi.resetModules();
});
afterEach(cleanup);

async function renderWith(providers: { status: number; body?: unknown }) {
  const { fakeApi } = await import("@/test/fakeApi");
  const net = fakeApi({ "GET /auth/providers": providers });
  const { GoogleSignIn } = await import("./GoogleSignIn");
  const { getProviders } = await import("@/lib/api/auth");
  await act(async () => {
    render(<GoogleSignIn next="/upload" />);
    await getProviders();
  });
  return net;
}

describe("Continue with Google", () => {
  it("is offered when the backend has Google configured", async () => {
    const net = await renderWith({ status: 200, body: { password: true, google: true } });

    const button = screen.getByRole("button", { name: "Continue with Google" });
    expect(button.closest("form")?.getAttribute("action")).toBe("/api/auth/oauth/google/start");
    expect(net.called("GET", "/auth/providers")).toHaveLength(1);
  });

  it("is not offered when it is not", async () => {
    await renderWith({ status: 200, body: { password: true, google: false } });

    expect(screen.queryByRole("button", { name: "Continue with Google" })).toBeNull();
  });

  it("is not offered when the backend cannot say", async () => {
    await renderWith({ status: 404 });

    expect(screen.queryByRole("button", { name: "Continue with Google" })).toBeNull();
  });
});
