// Prints the Values of a local.settings.json (the Core Tools format) as
// shell `export` lines, single-quoted, so `make dev` can run the handler with
// the same settings Core Tools would give it. Variables already set in the
// environment win, as they do with Core Tools.
import { readFileSync } from "node:fs";

const file = process.argv[2] ?? "local.settings.json";
const { Values = {} } = JSON.parse(readFileSync(file, "utf8"));
const quote = (v) => "'" + String(v).replaceAll("'", "'\\''") + "'";
for (const [key, value] of Object.entries(Values)) {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`${file}: invalid setting name ${key}`);
  if (process.env[key] !== undefined) continue;
  console.log(`export ${key}=${quote(value)}`);
}
