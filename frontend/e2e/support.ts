// Support for the end-to-end tests: the browser, the stack's addresses (from
// the E2E_* variables the Go test sets), screenshots, axe-core checks and a
// watch on console errors and Content-Security-Policy violations.
import { mkdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import type * as Axe from "axe-core";

/** env returns the variable name, or throws saying how the tests are run. */
export function env(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set. The end-to-end tests run against the real stack: ` +
        "`make test` (or `go test ./handler -run TestFrontendInChromium`) starts it and sets E2E_*.",
    );
  }
  return value;
}

/** Generous waits: two shared cores, several browsers and builds at once. */
export const WAIT = 60_000;
/** Waits that include an upload, an import or a video decode. */
export const LONG_WAIT = 180_000;

/**
 * launch starts headless Debian Chromium with a fresh profile (playwright
 * makes a temporary user-data-dir per launch).
 */
export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.E2E_CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** newContext opens a fresh context (no cookies, no storage) on the app. */
export async function newContext(browser: Browser, viewport = { width: 1280, height: 800 }): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL: env("E2E_BASE_URL"), viewport, locale: "en-GB" });
  context.setDefaultTimeout(WAIT);
  context.setDefaultNavigationTimeout(WAIT);
  return context;
}

/**
 * Problems collects what must never happen on a page: console errors,
 * uncaught exceptions, CSP violations, requests blocked by the browser and
 * server errors. take() returns and forgets them.
 */
export interface Problems {
  take(): string[];
  /** waitFor resolves with the first problem (collected or to come) that matches. */
  waitFor(pattern: RegExp, timeout?: number): Promise<string>;
}

type CspReport = (violation: string) => void;

/** watch starts collecting the problems of every page of context. */
export async function watch(context: BrowserContext): Promise<Problems> {
  let found: string[] = [];
  const waiters = new Set<(p: string) => void>();
  const add = (p: string) => {
    found.push(p);
    waiters.forEach((w) => w(p));
  };

  await context.exposeFunction("__e2eReportCSP", (violation: string) => add(`CSP violation: ${violation}`));
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      const report = (window as unknown as { __e2eReportCSP: CspReport }).__e2eReportCSP;
      void report(`${e.effectiveDirective} blocked ${e.blockedURI || "(inline)"} on ${e.documentURI}` +
        (e.sourceFile ? ` (${e.sourceFile}:${e.lineNumber})` : ""));
    });
  });

  const watchPage = (page: Page) => {
    page.on("console", (msg) => {
      if (msg.type() !== "error" && !msg.text().includes("Refused to")) return;
      const at = msg.location().url;
      // Restoring the session on a signed-out page is one refresh call that
      // answers 401: Chromium logs every 4xx resource as a console error.
      if (/status of 401/.test(msg.text()) && at.includes("/api/auth/refresh")) return;
      add(`console ${msg.type()}: ${msg.text()}${at ? ` (${at})` : ""}`);
    });
    page.on("pageerror", (err) => add(`uncaught exception: ${err.stack ?? err.message}`));
    page.on("requestfailed", (req) => {
      const reason = req.failure()?.errorText ?? "";
      if (reason.includes("BLOCKED")) add(`request blocked (${reason}): ${req.method()} ${req.url()}`);
    });
    page.on("response", (res) => {
      if (res.status() >= 500) add(`server error ${res.status()}: ${res.request().method()} ${res.url()}`);
    });
  };
  context.pages().forEach(watchPage);
  context.on("page", watchPage);

  return {
    take() {
      const out = found;
      found = [];
      return out;
    },
    waitFor(pattern, timeout = WAIT) {
      const already = found.find((p) => pattern.test(p));
      if (already) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no browser problem matching ${pattern} within ${timeout} ms`));
        }, timeout);
        const waiter = (p: string) => {
          if (!pattern.test(p)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(p);
        };
        waiters.add(waiter);
      });
    },
  };
}

/** outputPath is where a named artefact of this run goes. */
export async function outputPath(name: string): Promise<string> {
  const dir = env("E2E_OUTPUT_DIR");
  await mkdir(dir, { recursive: true });
  return path.join(dir, name);
}

/**
 * screenshot saves the page as <E2E_OUTPUT_DIR>/<name>.png: the whole page,
 * or only the viewport (as a phone shows it, fixed bars in place).
 */
export async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: await outputPath(`${name}.png`), fullPage, animations: "disabled" });
}

const require = createRequire(import.meta.url);
let axeSource: string | undefined;

interface Violation {
  id: string;
  impact: string;
  help: string;
  helpUrl: string;
  nodes: { target: string; summary: string }[];
}

/**
 * checkAccessibility runs axe-core on the page and throws on any serious or
 * critical violation, listing each with the elements concerned. axe is
 * evaluated through the DevTools protocol, which the page's CSP does not
 * govern (a <script> tag would be refused, as it should be).
 */
export async function checkAccessibility(page: Page, name: string): Promise<void> {
  axeSource ??= await readFile(require.resolve("axe-core/axe.min.js"), "utf8");
  const loaded = await page.evaluate(() => "axe" in window);
  if (!loaded) await page.evaluate(axeSource);
  const violations: Violation[] = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: typeof Axe }).axe;
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? "unknown",
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary ?? "" })),
    }));
  });
  const describe = (v: Violation) =>
    `  [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n` +
    v.nodes.map((n) => `    - ${n.target}\n      ${n.summary.replace(/\n/g, "\n      ")}`).join("\n");
  const blocking = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const minor = violations.filter((v) => !blocking.includes(v));
  if (minor.length > 0) console.log(`axe on ${name} (${page.url()}): minor/moderate:\n${minor.map(describe).join("\n")}`);
  if (blocking.length > 0) {
    throw new Error(`axe on ${name} (${page.url()}): ${blocking.length} serious or critical violations:\n${blocking.map(describe).join("\n")}`);
  }
}

/** assertNoProblems throws when problems collected anything since the last call. */
export function assertNoProblems(problems: Problems, name: string): void {
  const found = problems.take();
  if (found.length > 0) throw new Error(`${name}: ${found.length} problems in the browser:\n  ${found.join("\n  ")}`);
}

/**
 * checkpoint ends a step on a page: a screenshot named name, axe-core, and
 * no console error, CSP violation or server error since the last checkpoint.
 */
export async function checkpoint(page: Page, problems: Problems, name: string, fullPage = true): Promise<void> {
  await screenshot(page, name, fullPage);
  await checkAccessibility(page, name);
  assertNoProblems(problems, name);
}

export interface Mail {
  to: string[];
  subject: string;
  text: string;
}

/**
 * waitForMail returns the newest mail to the address; the Go test's mail
 * endpoint holds the request until one arrives (up to a minute).
 */
export async function waitForMail(to: string): Promise<Mail> {
  const res = await fetch(`${env("E2E_MAIL_URL")}?to=${encodeURIComponent(to)}`, { signal: AbortSignal.timeout(WAIT + 10_000) });
  if (!res.ok) throw new Error(`no mail to ${to}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Mail;
}

/** linkIn returns the first URL in text that starts with prefix. */
export function linkIn(text: string, prefix: string): string {
  const link = text
    .split(/\s+/)
    .map((w) => w.replace(/^[<("']+|[>)"'.,;:!?]+$/g, ""))
    .find((w) => w.startsWith(prefix));
  if (!link) throw new Error(`no link starting with ${prefix} in:\n${text}`);
  return link;
}

/**
 * createVerifiedUser registers through the API and verifies the address
 * with the token from the mail, as the verification page would.
 */
export async function createVerifiedUser(email: string, password: string, name?: string): Promise<void> {
  const base = env("E2E_BASE_URL");
  const post = (path: string, body: unknown) =>
    fetch(`${base}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const reg = await post("/api/auth/register", { email, password, ...(name ? { name } : {}) });
  if (reg.status !== 202) throw new Error(`register ${email}: ${reg.status} ${await reg.text()}`);
  const token = new URL(linkIn((await waitForMail(email)).text, `${base}/auth/verify`)).searchParams.get("token");
  const verify = await post("/api/auth/verify-email", { token });
  if (verify.status !== 200) throw new Error(`verify ${email}: ${verify.status} ${await verify.text()}`);
}

/** signIn signs in on the sign-in page and waits for the app's navigation. */
export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto("/auth/login/");
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
}

/**
 * checkKeyboardFocus tabs through the page from the top, up to limit stops,
 * and throws when a focused control shows no focus indicator (no outline
 * and no box-shadow ring) or when focus lands on something hidden. It
 * returns the accessible names (or tags) of the stops, in order.
 */
export async function checkKeyboardFocus(page: Page, name: string, limit = 40): Promise<string[]> {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const stops: string[] = [];
  const invisible: string[] = [];
  let first: string | null = null;
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    const stop = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return null;
      const s = getComputedStyle(el);
      const ring = (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== "none";
      const r = el.getBoundingClientRect();
      const label =
        el.getAttribute("aria-label") ?? (el.innerText || (el as HTMLInputElement).labels?.[0]?.innerText || el.tagName).trim().slice(0, 40);
      const path = `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""} "${label}"`;
      return { path, ring, shown: r.width > 0 && r.height > 0 };
    });
    if (!stop) break;
    if (stop.path === first) break; // back at the start
    first ??= stop.path;
    stops.push(stop.path);
    if (!stop.ring || !stop.shown) invisible.push(`${stop.path}${stop.shown ? "" : " (not on screen)"}`);
  }
  if (stops.length === 0) throw new Error(`${name}: Tab reaches no control`);
  if (invisible.length > 0) throw new Error(`${name}: focus is not visible on:\n  ${invisible.join("\n  ")}`);
  return stops;
}
