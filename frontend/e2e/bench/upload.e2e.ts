// The browser half of BenchmarkBrowserUpload256MiB (handler/): sign in as
// E2E_EMAIL, upload E2E_UPLOAD_FILE through the app's own uploader on
// /upload, and write to E2E_RESULT_FILE the wall time from choosing the file
// to "Uploaded", the time from its first Put Block to the Put Block List's
// answer, the tab's peak JavaScript heap and the peak resident memory
// of Chromium's renderer processes (the tab's), sampled every 250 ms.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { expect, test } from "vitest";
import { WAIT, assertNoProblems, env, launch, newContext, signIn, watch } from "../support";

const MiB = 1024 * 1024;

/** rssBytes is a process's resident memory from /proc, 0 when it is gone. */
function rssBytes(pid: number): number {
  try {
    const kB = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kB ? Number(kB) * 1024 : 0;
  } catch {
    return 0;
  }
}

test("upload a large file through the app's uploader", async () => {
  const file = env("E2E_UPLOAD_FILE");
  const browser = await launch();
  try {
    const context = await newContext(browser);
    const problems = await watch(context);
    const page = await context.newPage();

    await signIn(page, env("E2E_EMAIL"), env("E2E_PASSWORD"));
    await page.goto("/upload/");
    await page.getByRole("heading", { name: "Upload videos", exact: true }).waitFor();
    await page.waitForLoadState("networkidle");
    // Only what happens during the upload counts here; the flows check the rest.
    problems.take();

    const tab = await context.newCDPSession(page);
    await tab.send("Performance.enable");
    const processes = await (await browser.newBrowserCDPSession()).send("SystemInfo.getProcessInfo");
    const renderers = processes.processInfo.filter((p) => p.type === "renderer").map((p) => p.id);
    let peakHeap = 0;
    let peakRSS = 0;
    const sample = async () => {
      const { metrics } = await tab.send("Performance.getMetrics");
      peakHeap = Math.max(peakHeap, metrics.find((m) => m.name === "JSHeapUsedSize")?.value ?? 0);
      peakRSS = Math.max(peakRSS, ...renderers.map(rssBytes));
    };
    await sample();
    const rssAtStart = peakRSS;
    const sampler = setInterval(() => void sample().catch(() => undefined), 250);

    // The storage part alone (first Put Block to the Put Block List's
    // answer), which is what UploadStream does: the wall time also holds
    // the API calls that create and complete the upload.
    let firstBlock = 0;
    let committed = 0;
    page.on("request", (req) => {
      if (!firstBlock && req.method() === "PUT" && /[?&]comp=block(&|$)/.test(req.url())) firstBlock = performance.now();
    });
    page.on("response", (res) => {
      if (res.request().method() === "PUT" && /[?&]comp=blocklist(&|$)/.test(res.url())) committed = performance.now();
    });

    const name = path.basename(file);
    const started = performance.now();
    await page.getByLabel("Choose video files").setInputFiles(file);
    const item = page.getByRole("listitem").filter({ has: page.getByRole("progressbar", { name: `Upload of ${name}` }) });
    await item.getByText("Uploaded").waitFor({ timeout: 15 * 60_000 });
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    await sample();
    await item.getByRole("link", { name: "Open in library" }).waitFor({ timeout: WAIT });
    expect(firstBlock, "no Put Block request seen").toBeGreaterThan(0);
    expect(committed, "no Put Block List answer seen").toBeGreaterThan(firstBlock);
    const result = { seconds, transferSeconds: (committed - firstBlock) / 1000, peakJSHeapMiB: peakHeap / MiB, peakRendererRSSMiB: peakRSS / MiB, rendererRSSAtStartMiB: rssAtStart / MiB, renderers: renderers.length };
    console.log(`browser upload of ${name}: ${JSON.stringify(result)}`);
    assertNoProblems(problems, "upload benchmark");
    expect(renderers.length).toBeGreaterThan(0);
    writeFileSync(env("E2E_RESULT_FILE"), JSON.stringify(result));
  } finally {
    await browser.close();
  }
});
