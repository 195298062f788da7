// @vitest-environment node
// lib/api/schema.ts is generated from internal/httpapi/openapi.yaml (`npm run gen:api`). This test
// regenerates it in memory and fails when the two have drifted: someone changed the API description
// without regenerating the types the frontend compiles against.
import { readFile } from "node:fs/promises";
import openapiTS, { astToString, COMMENT_HEADER } from "openapi-typescript";
import { expect, it } from "vitest";

it("lib/api/schema.ts is what openapi-typescript makes of openapi.yaml today", async () => {
  const spec = new URL("../../../internal/httpapi/openapi.yaml", import.meta.url);
  const generated = COMMENT_HEADER + astToString(await openapiTS(spec));
  const committed = await readFile(new URL("./schema.ts", import.meta.url), "utf8");

  expect(committed === generated, "lib/api/schema.ts is stale: run `npm run gen:api` in frontend/").toBe(true);
}, 30_000);
