// An upload cut by a reload continues from the blocks storage already has
// when the same file is chosen again. The page's upload bandwidth is
// throttled (DevTools network emulation) so the reload lands mid-upload.
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { LONG_WAIT, checkpoint, createVerifiedUser, env, launch, newContext, screenshot, signIn, watch, type Problems } from "./support";

const MiB = 1024 * 1024;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: Problems;

beforeAll(async () => {
  browser = await launch();
  context = await newContext(browser);
  problems = await watch(context);
  page = await context.newPage();
  await createVerifiedUser("grace@example.com", "compiler 1952 hopper", "Grace Hopper");
  await signIn(page, "grace@example.com", "compiler 1952 hopper");
});

afterAll(async () => {
  const left = problems?.take() ?? [];
  await browser?.close();
  if (left.length > 0) throw new Error(`after the last step: ${left.join("\n  ")}`);
});

/** blockId returns the blockid of a Put Block request, or null for any other. */
function blockId(method: string, url: string): string | null {
  const u = new URL(url);
  return method === "PUT" && u.searchParams.get("comp") === "block" ? u.searchParams.get("blockid") : null;
}

test("a reload mid-upload, then the same file again: only the missing blocks are sent", async ({ onTestFailed }) => {
  onTestFailed(() => screenshot(page, "FAILED-resume").catch(() => undefined));
  const file = env("E2E_RESUME_FILE");
  const name = path.basename(file);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Upload" }).click();
  await page.getByRole("heading", { name: "Upload videos", exact: true }).waitFor();

  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 8 * MiB });

  // Blocks sent before the reload, those storage acknowledged (the page saw
  // the 201), and blocks sent after it. A block whose answer the reload cut
  // off may be staged all the same: the API's staged_blocks tell the app.
  const sentBefore = new Set<string>();
  const before = new Set<string>();
  const after: string[] = [];
  let committed: string[] = [];
  let reloaded = false;
  let twoStaged: () => void = () => undefined;
  const staged = new Promise<void>((resolve) => (twoStaged = resolve));
  page.on("response", (res) => {
    const id = blockId(res.request().method(), res.url());
    if (id && !reloaded && res.status() === 201) {
      before.add(id);
      if (before.size >= 2) twoStaged();
    }
  });
  page.on("request", (req) => {
    const id = blockId(req.method(), req.url());
    if (id && reloaded) after.push(id);
    if (id && !reloaded) sentBefore.add(id);
    if (req.method() === "PUT" && new URL(req.url()).searchParams.get("comp") === "blocklist") {
      committed = [...(req.postData() ?? "").matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]+)</g)].map((m) => m[1] ?? "");
    }
  });
  page.on("dialog", (d) => void d.accept()); // "leave the page?" while uploading

  await page.getByLabel("Choose video files").setInputFiles(file);
  await staged;
  reloaded = true;
  await page.reload();
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await page.getByRole("heading", { name: "Upload videos", exact: true }).waitFor();

  await page.getByLabel("Choose video files").setInputFiles(file);
  const item = page.getByRole("listitem").filter({ has: page.getByRole("progressbar", { name: `Upload of ${name}` }) });
  await item.getByText("Uploaded").waitFor({ timeout: LONG_WAIT });
  await checkpoint(page, problems, "20-upload-resumed");

  expect(before.size, "blocks staged before the reload").toBeGreaterThanOrEqual(2);
  expect(after.filter((id) => before.has(id)), "staged blocks sent again").toEqual([]);
  expect(after.length, "blocks sent after the reload").toBeLessThan(committed.length);
  expect(committed.filter((id) => !sentBefore.has(id) && !after.includes(id)), "committed blocks never sent").toEqual([]);
  console.log(`resume: ${committed.length} blocks; ${before.size} acknowledged before the reload (${sentBefore.size} sent), ${after.length} sent after`);

  await item.getByRole("link", { name: "Open in library" }).click();
  await page.getByRole("article", { name: new RegExp(`^${name.replace(/\./g, "\\.")}`) }).getByText("Ready").waitFor({ timeout: LONG_WAIT });
});
