import { afterAll, describe, expect, it, vi } from "vitest";
import { parseLocalDateTime, toLocalInputValue } from "./schedule";

const zone = vi.hoisted(() => {
  const before = process.env.TZ;
  process.env.TZ = "Europe/Berlin";
  return { before };
});
afterAll(() => {
  if (zone.before === undefined) delete process.env.TZ;
  else process.env.TZ = zone.before;
});

describe("the date and time of a post", () => {
  it("reads a datetime-local value as the reader's wall clock (Berlin, winter and summer)", () => {
    expect(parseLocalDateTime("2026-12-01T09:30")?.toISOString()).toBe("2026-12-01T08:30:00.000Z");
    expect(parseLocalDateTime("2026-07-01T09:30")?.toISOString()).toBe("2026-07-01T07:30:00.000Z");
    expect(parseLocalDateTime("2026-07-01T09:30:15")?.toISOString()).toBe("2026-07-01T07:30:15.000Z");
  });

  it("refuses what is not a date and time", () => {
    expect(parseLocalDateTime("")).toBeNull();
    expect(parseLocalDateTime("tomorrow")).toBeNull();
    expect(parseLocalDateTime("2026-02-31T10:00")).toBeNull();
  });

  it("writes an instant back as the reader's wall clock, to the minute", () => {
    expect(toLocalInputValue(new Date("2026-12-01T08:30:42Z"))).toBe("2026-12-01T09:30");
  });
});
