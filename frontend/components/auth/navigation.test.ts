import { describe, expect, it } from "vitest";
import { safeNext } from "./navigation";

describe("where to go after signing in", () => {
  it("follows a path on this site, query included", () => {
    expect(safeNext("/library?video=abc")).toBe("/library?video=abc");
    expect(safeNext("/upload/")).toBe("/upload/");
  });

  it.each([
    ["nothing", null],
    ["another site", "https://evil.example/"],
    ["a protocol-relative URL", "//evil.example/x"],
    ["a backslash trick", "/\\evil.example"],
    ["a javascript: URL", "javascript:alert(1)"],
    ["the sign-in pages themselves", "/auth/login?next=/auth/login"],
    ["the root", "/"],
  ])("goes to the library instead of %s", (_what, next) => {
    expect(safeNext(next)).toBe("/library");
  });
});
