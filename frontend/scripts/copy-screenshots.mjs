#!/usr/bin/env node
// Copies the end-to-end screenshots of the main pages (written by
// TestFrontendInChromium to frontend/test-output/e2e) to the README's
// folder under stable names, scaled to 960 px wide by ffmpeg to keep the
// committed PNGs small.
//
//   node frontend/scripts/copy-screenshots.mjs frontend/test-output/e2e docs/screenshots
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, statSync } from "node:fs";
import path from "node:path";

const [from = "frontend/test-output/e2e", to = "docs/screenshots"] = process.argv.slice(2);

// e2e checkpoint name -> README name
const pages = {
  "04-sign-in": "sign-in",
  "01-register": "register",
  "11-library": "library",
  "11b-library-import-running": "library-import-running",
  "11c-delete-dialog": "delete-dialog",
  "08-player": "player",
  "07-upload-done": "upload",
  "10-import-done": "import",
  "12-settings": "settings",
  "14-library-phone": "library-phone",
};

mkdirSync(to, { recursive: true });
let missing = 0;
for (const [source, name] of Object.entries(pages)) {
  const src = path.join(from, `${source}.png`);
  const dst = path.join(to, `${name}.png`);
  if (!existsSync(src)) {
    console.error(`screenshots: ${src} is missing: run TestFrontendInChromium (make test) first`);
    missing++;
    continue;
  }
  const phone = name.endsWith("-phone");
  try {
    execFileSync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", "-i", src, "-vf", phone ? "scale=390:-1" : "scale='min(960,iw)':-1", "-compression_level", "100", dst]);
  } catch {
    copyFileSync(src, dst); // no ffmpeg: the full-size image
  }
  console.log(`${dst} (${Math.round(statSync(dst).size / 1024)} KiB)`);
}
process.exitCode = missing > 0 ? 1 : 0;
