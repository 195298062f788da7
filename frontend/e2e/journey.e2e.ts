// A new user's first session, step by step, in headless Chromium against the
// real handler serving the static export (see handler/frontend_e2e_test.go):
// register, verify from the mail, sign in, upload and play a video, import
// one from a link, reload, rename, look at the library on a phone, sign out.
// Each step ends at a checkpoint: a screenshot, axe-core, and no console
// error or CSP violation. A failed step skips the ones after it.
import path from "node:path";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import {
  LONG_WAIT,
  assertNoProblems,
  checkKeyboardFocus,
  checkpoint,
  env,
  launch,
  linkIn,
  newContext,
  screenshot,
  waitForMail,
  watch,
  type Problems,
} from "./support";

const user = {
  email: "ada@example.com",
  password: "analytical engine 1843",
  name: "Ada Lovelace",
  newName: "Ada King",
};

describe("a new user's first session", () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: Problems;
  let failed = false;
  const uploadFile = env("E2E_UPLOAD_FILE");
  const uploadName = path.basename(uploadFile);
  const uploadTitle = new RegExp(`^${escape(uploadName.replace(/\.mp4$/, ""))}`);
  const importURL = env("E2E_IMPORT_URL");
  const importTitle = new RegExp(escape(path.basename(new URL(importURL).pathname).replace(/\.mp4$/, "")));

  beforeAll(async () => {
    browser = await launch();
    context = await newContext(browser);
    problems = await watch(context);
    page = await context.newPage();
  });

  afterAll(async () => {
    const left = problems?.take() ?? [];
    await browser?.close();
    // What arrived after the last checkpoint counts too.
    if (!failed && left.length > 0) throw new Error(`after the last step: ${left.join("\n  ")}`);
  });

  beforeEach(({ skip, onTestFailed, task }) => {
    if (failed) skip();
    onTestFailed(async () => {
      failed = true;
      await screenshot(page, `FAILED-${slug(task.name)}`).catch(() => undefined);
    });
  });

  test("the pages carry a strict CSP, and a violation is caught", async () => {
    const res = await page.goto("/auth/login/");
    const csp = res?.headers()["content-security-policy"] ?? "";
    const scriptSrc = csp.split(";").find((d) => d.trim().startsWith("script-src")) ?? "";
    expect(scriptSrc, `script-src of ${csp}`).toMatch(/'self'/);
    expect(scriptSrc).not.toMatch(/'unsafe-inline'|'unsafe-eval'|\*/);
    await heading(page, "Sign in").waitFor();
    // What a cross-site script would try: the page refuses it, and the
    // watch reports it (so a clean run means no violation happened).
    await page.evaluate(() => {
      const s = document.createElement("script");
      s.textContent = "window.__injected = true";
      document.body.append(s);
    });
    await problems.waitFor(/CSP violation: script-src(-elem)? blocked inline/);
    expect(await page.evaluate(() => "__injected" in window)).toBe(false);
    problems.take();
  });

  test("register", async () => {
    await visit(page, "/auth/register/");
    await heading(page, "Create your account").waitFor();
    await checkpoint(page, problems, "01-register");
    await page.getByLabel("Name", { exact: true }).fill(user.name);
    await page.getByLabel("Email", { exact: true }).fill(user.email);
    await page.getByLabel("Password", { exact: true }).fill(user.password);
    await page.getByRole("button", { name: "Create account" }).click();
    await heading(page, "Check your email").waitFor();
    await checkpoint(page, problems, "02-check-your-email");
  });

  test("open the verification link from the mail", async () => {
    const mail = await waitForMail(user.email);
    const link = linkIn(mail.text, `${env("E2E_BASE_URL")}/auth/verify`);
    await visit(page, link);
    await heading(page, "Email verified").waitFor();
    await checkpoint(page, problems, "03-email-verified");
  });

  test("sign in", async () => {
    await visit(page, "/auth/login/");
    await heading(page, "Sign in").waitFor();
    await checkpoint(page, problems, "04-sign-in");
    const stops = await checkKeyboardFocus(page, "sign-in page");
    expect(stops.join("\n")).toMatch(/Email[\s\S]*Password[\s\S]*Sign in/);
    await page.getByLabel("Email").fill(user.email);
    await page.getByLabel("Password", { exact: true }).fill(user.password);
    await page.getByLabel("Password", { exact: true }).press("Enter"); // the keyboard submits the form
    await mainNav(page).waitFor();
    await heading(page, "Library").waitFor();
    await page.getByText("No videos yet").waitFor();
    await page.getByRole("banner").getByText(user.name).first().waitFor();
    await checkpoint(page, problems, "05-library-empty");
  });

  test("upload a real MP4", async () => {
    await mainNav(page).getByRole("link", { name: "Upload" }).click();
    await heading(page, "Upload videos").waitFor();
    await checkpoint(page, problems, "06-upload");
    await page.getByLabel("Choose video files").setInputFiles(uploadFile);
    const item = page.getByRole("listitem").filter({ has: page.getByRole("progressbar", { name: `Upload of ${uploadName}` }) });
    await item.waitFor();
    await item.getByText("Uploaded").waitFor({ timeout: LONG_WAIT });
    await checkpoint(page, problems, "07-upload-done");
    await item.getByRole("link", { name: "Open in library" }).click();
    await heading(page, "Library").waitFor();
  });

  test("play the uploaded video", async () => {
    const video = page.getByRole("article", { name: uploadTitle });
    await video.getByText("Ready").waitFor({ timeout: LONG_WAIT });
    await video.getByRole("button", { name: "Play" }).click();
    const player = page.getByLabel(uploadTitle).and(page.locator("video"));
    await player.waitFor();
    const handle = await player.elementHandle();
    await page.waitForFunction((v) => v instanceof HTMLVideoElement && v.readyState >= 2, handle, { timeout: LONG_WAIT });
    await checkpoint(page, problems, "08-player");
  });

  test("import a video from a link and watch the progress reach 100 %", async () => {
    await mainNav(page).getByRole("link", { name: "Import" }).click();
    await heading(page, "Import from a link").waitFor();
    await checkpoint(page, problems, "09-import");
    // Record every value the bar takes: a quick import may pass 100 % and
    // move on before a poll from here would see it.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { __importProgress: string[] }).__importProgress = seen;
      const record = (el: Element) => {
        const v = el.getAttribute("aria-valuenow");
        if (el.getAttribute("role") === "progressbar" && v !== null) seen.push(v);
      };
      new MutationObserver((records) => {
        for (const r of records) {
          if (r.target instanceof Element) record(r.target);
          r.addedNodes.forEach((n) => {
            if (n instanceof Element) [n, ...n.querySelectorAll("[role=progressbar]")].forEach(record);
          });
        }
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["aria-valuenow"] });
    });
    await page.getByLabel("Video URL").fill(importURL);
    await page.getByRole("button", { name: "Import", exact: true }).click();
    await page.getByRole("progressbar", { name: "Import progress" }).waitFor();
    await page.waitForFunction(() => (window as unknown as { __importProgress: string[] }).__importProgress.includes("100"), null, {
      timeout: LONG_WAIT,
    });
    const bar = page.getByRole("progressbar", { name: "Import progress" });
    if ((await bar.count()) > 0) expect(await bar.getAttribute("aria-valuenow")).toBe("100");
    await checkpoint(page, problems, "10-import-done");
  });

  test("reload and stay signed in", async () => {
    await mainNav(page).getByRole("link", { name: "Library" }).click();
    await heading(page, "Library").waitFor();
    await page.reload();
    await heading(page, "Library").waitFor();
    await mainNav(page).waitFor();
    expect(new URL(page.url()).pathname).toMatch(/^\/library\/?$/);
    await page.getByRole("article", { name: uploadTitle }).getByText("Ready").waitFor();
    await page.getByRole("article", { name: importTitle }).getByText("Ready").waitFor({ timeout: LONG_WAIT });
    await checkpoint(page, problems, "11-library");
    await checkKeyboardFocus(page, "library");
  });

  test("an import still running shows its live state in the library after a reload; deleting it asks first", async () => {
    await mainNav(page).getByRole("link", { name: "Import" }).click();
    await heading(page, "Import from a link").waitFor();
    await page.getByLabel("Video URL").fill(env("E2E_SLOW_IMPORT_URL"));
    await page.getByRole("button", { name: "Import", exact: true }).click();
    const bar = page.getByRole("progressbar", { name: "Import progress" });
    await page.waitForFunction((el) => Number(el?.getAttribute("aria-valuenow") ?? 0) > 0, await bar.elementHandle(), {
      timeout: LONG_WAIT,
    });

    await mainNav(page).getByRole("link", { name: "Library" }).click();
    await heading(page, "Library").waitFor();
    await page.reload();
    // Its title is still the source's host until the import learns the real one.
    const running = page.getByRole("article").filter({ has: page.getByText(/^Importing \d+ %$/) });
    await running.waitFor();
    const before = Number(/(\d+) %/.exec(await running.getByText(/^Importing \d+ %$/).innerText())?.[1]);
    await running.getByText(new RegExp(`^Importing (?!${before} %)\\d+ %$`)).waitFor(); // live: the percent moves
    await checkpoint(page, problems, "11b-library-import-running");

    await running.getByRole("button", { name: "Delete" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete video?" });
    await dialog.waitFor();
    await checkpoint(page, problems, "11c-delete-dialog");
    await page.keyboard.press("Escape"); // the keyboard closes it, nothing deleted
    await dialog.waitFor({ state: "hidden" });
    await running.waitFor();
    await running.getByRole("button", { name: "Delete" }).click();
    await dialog.getByRole("button", { name: "Delete", exact: true }).click();
    await running.waitFor({ state: "detached" });
    await page.getByRole("article", { name: uploadTitle }).waitFor();
    assertNoProblems(problems, "after deleting a running import");
  });

  test("change the display name", async () => {
    await mainNav(page).getByRole("link", { name: "Settings" }).click();
    await heading(page, "Settings").waitFor();
    await checkpoint(page, problems, "12-settings");
    await page.getByLabel("Display name").fill(user.newName);
    await page.getByRole("button", { name: "Save name" }).click();
    await page.getByText("Name saved").waitFor();
    await page.getByRole("banner").getByText(user.newName).first().waitFor();
    await checkpoint(page, problems, "13-name-saved");
  });

  test("the library on a phone-sized screen", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await mainNav(page).getByRole("link", { name: "Library" }).click();
    await heading(page, "Library").waitFor();
    await page.getByRole("article", { name: uploadTitle }).waitFor();
    // The navigation stays within reach (a tab bar on a phone).
    for (const link of ["Library", "Upload", "Import", "Settings"]) {
      const box = await mainNav(page).getByRole("link", { name: link }).boundingBox();
      expect(box, `${link} link on a phone`).not.toBeNull();
      expect(box!.x >= 0 && box!.x + box!.width <= 390 && box!.y + box!.height <= 844, `${link} link inside the screen`).toBe(true);
    }
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, "the page scrolls sideways on a 390 px wide screen").toBeLessThanOrEqual(0);
    await checkpoint(page, problems, "14-library-phone", false);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  test("sign out", async () => {
    await mainNav(page).getByRole("link", { name: "Settings" }).click();
    await heading(page, "Settings").waitFor();
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await heading(page, "Sign in").waitFor();
    // Signed out for good: the library sends a fresh load back to sign-in.
    await visit(page, "/library/");
    await heading(page, "Sign in").waitFor();
    await checkpoint(page, problems, "15-signed-out");
  });
});

/** visit loads url and fails at once when the server does not serve it. */
async function visit(page: Page, url: string): Promise<void> {
  const res = await page.goto(url);
  if (!res || !res.ok()) throw new Error(`GET ${url}: ${res ? `${res.status()} ${await res.text()}` : "no response"}`);
}

function heading(page: Page, name: string): Locator {
  return page.getByRole("heading", { name, exact: true });
}

function mainNav(page: Page): Locator {
  return page.getByRole("navigation", { name: "Main" });
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}
