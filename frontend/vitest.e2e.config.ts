import { defineConfig } from "vitest/config";

// End-to-end tests: headless Chromium (playwright-core) against the real
// handler serving the static export. `go test ./handler -run
// TestFrontendInChromium` (part of `make test`) starts the stack and runs
// `npm run e2e` with the E2E_* variables e2e/support.ts reads; running this
// config by hand needs the same variables.
//
// E2E_SUITE=bench runs the upload benchmark (BenchmarkBrowserUpload256MiB)
// instead of the flows.
const bench = process.env.E2E_SUITE === "bench";

export default defineConfig({
  test: {
    environment: "node",
    include: bench ? ["e2e/bench/*.e2e.ts"] : ["e2e/*.e2e.ts"],
    // One file at a time: each drives a whole browser on a small machine.
    fileParallelism: false,
    maxWorkers: 1,
    // Steps wait on events with their own (generous) deadlines; these only
    // stop a hung step.
    testTimeout: bench ? 20 * 60_000 : 5 * 60_000,
    hookTimeout: 2 * 60_000,
    reporters: ["verbose"],
  },
});
