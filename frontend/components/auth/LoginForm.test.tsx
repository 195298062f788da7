import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useAuthStore } from "@/lib/store/authStore";
import { errorReply, fakeApi, sessionReply } from "@/test/fakeApi";
import { LoginForm } from "./LoginForm";

const nav = vi.hoisted(() => ({ replace: vi.fn(), search: "" }));
vi.mock("next/navigation", () => ({
  useRouter: () => ({ replace: nav.replace, push: vi.fn(), prefetch: vi.fn() }),
  useSearchParams: () => new URLSearchParams(nav.search),
}));

beforeEach(() => {
  useAuthStore.setState({ status: "anonymous", accessToken: null, user: null, signedOutByUser: false });
  nav.replace.mockClear();
  nav.search = "";
});
afterEach(cleanup);

async function signIn(email: string, password: string) {
  fireEvent.change(screen.getByLabelText("Email"), { target: { value: email } });
  fireEvent.change(screen.getByLabelText("Password"), { target: { value: password } });
  await act(async () => {
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
  });
}

describe("signing in", () => {
  it("goes back to the page that was asked for", async () => {
    nav.search = "next=%2Fimport%3Furl%3Dx";
    const net = fakeApi({ "POST /auth/login": sessionReply("fresh"), "GET /auth/providers": { status: 200, body: { password: true, google: false } } });
    render(<LoginForm />);

    await signIn("ada@example.com", "correct horse");

    expect(net.called("POST", "/auth/login")[0]?.body).toEqual({ email: "ada@example.com", password: "correct horse" });
    expect(useAuthStore.getState()).toMatchObject({ status: "authenticated", accessToken: "fresh" });
    expect(nav.replace).toHaveBeenCalledWith("/import?url=x");
  });

  it("ignores a next that leads to another site", async () => {
    nav.search = "next=%2F%2Fevil.example%2Fphish";
    fakeApi({ "POST /auth/login": sessionReply() });
    render(<LoginForm />);

    await signIn("ada@example.com", "correct horse");

    expect(nav.replace).toHaveBeenCalledWith("/library");
  });

  it("says so when the email or password is wrong", async () => {
    fakeApi({ "POST /auth/login": errorReply(401, "invalid_credentials", "The email or password is incorrect.") });
    render(<LoginForm />);

    await signIn("ada@example.com", "nope");

    expect(screen.getByRole("alert").textContent).toContain("The email or password is incorrect.");
    expect(nav.replace).not.toHaveBeenCalled();
  });

  it("offers to resend the verification email when the address is not verified yet", async () => {
    const net = fakeApi({
      "POST /auth/login": errorReply(403, "email_not_verified", "Verify your email address before logging in."),
      "POST /auth/resend-verification": { status: 202, body: { status: "accepted", message: "ok" } },
    });
    render(<LoginForm />);
    await signIn("ada@example.com", "correct horse");

    await act(async () => {
      fireEvent.click(screen.getByRole("button", { name: "Resend verification email" }));
    });

    expect(net.called("POST", "/auth/resend-verification")[0]?.body).toEqual({ email: "ada@example.com" });
    expect(screen.getByText(/We sent a new verification link to ada@example.com/)).toBeTruthy();
  });

  it("after too many attempts, says when to try again and waits", async () => {
    fakeApi({ "POST /auth/login": errorReply(429, "rate_limited", "Too many requests.", undefined, { "retry-after": "30" }) });
    render(<LoginForm />);

    await signIn("ada@example.com", "x");

    expect(screen.getByRole("status").textContent).toContain("Try again in 30 s.");
    expect(screen.getByRole("button", { name: "Sign in" }).hasAttribute("disabled")).toBe(true);
  });

  it("puts each field's problem next to the field", async () => {
    fakeApi({
      "POST /auth/login": errorReply(422, "validation_failed", "Some fields are invalid.", { email: "must be a valid email address" }),
    });
    render(<LoginForm />);

    await signIn("ada@", "x");

    const email = screen.getByRole("textbox", { name: "Email", description: "Email must be a valid email address." });
    expect(email.getAttribute("aria-invalid")).toBe("true");
  });

  it("asks for the missing fields without calling the server", async () => {
    const net = fakeApi({});
    render(<LoginForm />);

    await signIn("", "");

    expect(screen.getByRole("textbox", { name: "Email", description: "Enter your email address." })).toBeTruthy();
    expect(net.calls.filter((c) => c.url === "/auth/login")).toHaveLength(0);
  });

});
