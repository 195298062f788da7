// Account recovery: a wrong password is refused in words; "Forgot
// password?" sends a mail whose link sets a new password; the old one then
// fails and the new one signs in.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, test } from "vitest";
import { checkpoint, createVerifiedUser, env, launch, linkIn, newContext, screenshot, signIn, waitForMail, watch, type Problems } from "./support";

const email = "alan@example.com";
const oldPassword = "enigma bombe 1940";
const newPassword = "universal machine 1936";

describe("a forgotten password", () => {
  let browser: Browser;
  let page: Page;
  let problems: Problems;

  beforeAll(async () => {
    browser = await launch();
    const context = await newContext(browser);
    problems = await watch(context);
    page = await context.newPage();
    await createVerifiedUser(email, oldPassword, "Alan Turing");
  });

  beforeEach(({ onTestFailed, task }) => {
    onTestFailed(() => screenshot(page, `FAILED-${task.name.replace(/[^a-z0-9]+/gi, "-")}`).catch(() => undefined));
  });

  afterAll(async () => {
    const left = problems?.take() ?? [];
    await browser?.close();
    if (left.length > 0) throw new Error(`after the last step: ${left.join("\n  ")}`);
  });

  test("a wrong password is refused in words", async () => {
    await page.goto("/auth/login/");
    await page.getByLabel("Email", { exact: true }).fill(email);
    await page.getByLabel("Password", { exact: true }).fill("not the password");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("alert").first().waitFor();
    // The refusal itself is a 401 from the API, which Chromium logs.
    await problems.waitFor(/status of 401 .*\/api\/auth\/login/);
    problems.take();
    await checkpoint(page, problems, "30-sign-in-refused");
  });

  test("the reset link from the mail sets a new password", async () => {
    await page.getByRole("link", { name: "Forgot password?" }).click();
    await page.getByRole("heading", { name: "Forgot your password?", exact: true }).waitFor();
    await page.getByLabel("Email", { exact: true }).fill(email);
    await page.getByRole("button", { name: "Send reset link" }).click();
    await page.getByText("Check your email").waitFor();
    await checkpoint(page, problems, "31-reset-link-sent");

    const link = linkIn((await waitForMail(email)).text, `${env("E2E_BASE_URL")}/auth/reset-password`);
    await page.goto(link);
    await page.getByRole("heading", { name: "Choose a new password", exact: true }).waitFor();
    await checkpoint(page, problems, "32-choose-new-password");
    await page.getByLabel("New password", { exact: true }).fill(newPassword);
    await page.getByRole("button", { name: "Set new password" }).click();
    await page.getByRole("heading", { name: "Password changed" }).waitFor();
    await checkpoint(page, problems, "33-password-changed");
  });

  test("the old password fails, the new one signs in", async () => {
    await page.goto("/auth/login/");
    await page.getByLabel("Email", { exact: true }).fill(email);
    await page.getByLabel("Password", { exact: true }).fill(oldPassword);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByRole("alert").first().waitFor();
    await problems.waitFor(/status of 401 .*\/api\/auth\/login/); // as above
    problems.take();
    await signIn(page, email, newPassword);
    await page.getByRole("heading", { name: "Library", exact: true }).waitFor();
    await checkpoint(page, problems, "34-signed-in-with-new-password");
  });
});
