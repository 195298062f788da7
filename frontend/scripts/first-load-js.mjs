// First-load JS of exported pages: the gzipped size of every script the page's HTML loads
// (<script src> except nomodule polyfills, and <link rel="preload|modulepreload" as="script">), read
// from a static export.
//
//   node scripts/first-load-js.mjs [route ...] [--out=out] [--max-kb=200]
//
// Exits 1 when a route is over --max-kb. Run after `npm run build`.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const args = process.argv.slice(2);
const outDir = args.find((a) => a.startsWith("--out="))?.slice(6) ?? "out";
const maxKb = Number(args.find((a) => a.startsWith("--max-kb="))?.slice(9) ?? 200);
const routes = args.filter((a) => !a.startsWith("--"));
if (routes.length === 0) routes.push("library");

let over = false;
for (const route of routes) {
  const html = await readFile(join(outDir, route.replace(/^\/|\/$/g, ""), "index.html"), "utf8");
  const srcs = new Set();
  for (const m of html.matchAll(/<script[^>]*\ssrc="([^"]+)"[^>]*>/g)) {
    if (/\snomodule/i.test(m[0])) continue; // polyfills that modern browsers never load
    srcs.add(m[1]);
  }
  for (const m of html.matchAll(/<link[^>]*rel="(?:preload|modulepreload)"[^>]*>/g)) {
    const tag = m[0];
    const href = /href="([^"]+)"/.exec(tag)?.[1];
    if (href && /as="script"/.test(tag)) srcs.add(href);
  }
  let total = 0;
  for (const src of srcs) {
    if (!src.startsWith("/")) continue; // another origin: not ours to count
    const file = join(outDir, decodeURIComponent(src.split("?")[0]));
    total += gzipSync(await readFile(file), { level: 9 }).length;
  }
  const kb = total / 1024;
  if (kb > maxKb) over = true;
  console.log(`/${route.replace(/^\/|\/$/g, "")}: ${srcs.size} scripts, ${kb.toFixed(1)} KB gzipped${kb > maxKb ? ` (over ${maxKb} KB)` : ""}`);
}
process.exit(over ? 1 : 0);
