#!/usr/bin/env node
// First-load JavaScript per route of the static export: for each
// <out>/**/index.html, the gzipped size of every script its <script src>
// tags load (each file counted once per route), as a browser with an empty
// cache fetches them. `nomodule` scripts (polyfills that browsers with ES
// modules never fetch) are left out; inline scripts (Next's RSC payload) are
// shown apart.
// Exits 1 when the library page is missing or over its budget.
//
//   node frontend/scripts/first-load-js.mjs [frontend/out]
import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET_ROUTE = "/library/";
const BUDGET_BYTES = 200 * 1000; // 200 kB gzipped, as Next and browsers' devtools count kB

const out = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, "..", "out"));

function pages(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== "_next") found.push(...pages(p));
    } else if (name === "index.html") {
      found.push(p);
    }
  }
  return found;
}

const gzipped = new Map(); // file -> [raw bytes, gzipped bytes]
function sizes(file) {
  if (!gzipped.has(file)) {
    const raw = readFileSync(file);
    gzipped.set(file, [raw.length, gzipSync(raw, { level: 9 }).length]);
  }
  return gzipped.get(file);
}

const kB = (n) => (n / 1000).toFixed(1);

let html;
try {
  html = pages(out);
} catch (err) {
  console.error(`first-load-js: no static export at ${out} (${err.message}); run \`npm --prefix frontend run build\``);
  process.exit(1);
}

const rows = [];
for (const file of html) {
  const rel = path.relative(out, path.dirname(file)).split(path.sep).join("/");
  const route = rel ? `/${rel}/` : "/";
  const doc = readFileSync(file, "utf8");
  const srcs = new Set();
  let inline = 0;
  for (const m of doc.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
    const attrs = m[1] ?? "";
    const src = /\bsrc=["']([^"']+)["']/i.exec(attrs)?.[1];
    if (/\bnomodule\b/i.test(attrs)) continue;
    if (src) srcs.add(src.split(/[?#]/)[0]);
    else inline += Buffer.byteLength(m[2] ?? "");
  }
  let raw = 0;
  let gz = 0;
  for (const src of srcs) {
    if (/^[a-z]+:\/\//i.test(src)) {
      console.error(`first-load-js: ${route} loads a script from another origin: ${src}`);
      process.exitCode = 1;
      continue;
    }
    const [r, g] = sizes(path.join(out, src.startsWith("/") ? src : path.relative(out, path.join(path.dirname(file), src))));
    raw += r;
    gz += g;
  }
  rows.push({ route, scripts: srcs.size, raw, gz, inline });
}
rows.sort((a, b) => a.route.localeCompare(b.route));

const header = ["route", "scripts", "raw kB", "gzip kB", "inline kB"];
const table = rows.map((r) => [r.route, String(r.scripts), kB(r.raw), kB(r.gz), kB(r.inline)]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
console.log(`First-load JavaScript per route of ${path.relative(process.cwd(), out) || out} (script files gzipped -9; inline scripts raw)`);
console.log(line(header));
table.forEach((row) => console.log(line(row)));

const library = rows.find((r) => r.route === BUDGET_ROUTE);
if (!library) {
  console.error(`first-load-js: the export has no ${BUDGET_ROUTE} page`);
  process.exit(1);
}
const verdict = library.gz <= BUDGET_BYTES ? "within" : "OVER";
console.log(`${BUDGET_ROUTE}: ${kB(library.gz)} kB gzipped, ${verdict} the budget of ${kB(BUDGET_BYTES)} kB`);
if (library.gz > BUDGET_BYTES) process.exitCode = 1;
