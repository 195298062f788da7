import { describe, expect, it } from "vitest";
import { formatBytes, formatDate, formatDuration, formatEta, formatPercent, formatSpeed } from "./format";

describe("numbers in words", () => {
  it("sizes", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(1500)).toBe("1.5 KB");
    expect(formatBytes(8_388_608)).toBe("8.39 MB");
    expect(formatBytes(268_435_456)).toBe("268 MB");
    expect(formatBytes(12_300_000_000)).toBe("12.3 GB");
    expect(formatBytes(null)).toBe("—");
    expect(formatBytes(-1)).toBe("—");
  });

  it("speeds", () => {
    expect(formatSpeed(2_400_000)).toBe("2.4 MB/s");
    expect(formatSpeed(Number.NaN)).toBe("—");
  });

  it("durations", () => {
    expect(formatDuration(42)).toBe("0:42");
    expect(formatDuration(185)).toBe("3:05");
    expect(formatDuration(3723)).toBe("1:02:03");
    expect(formatDuration(null)).toBe("—");
  });

  it("time left", () => {
    expect(formatEta(8.2)).toBe("9 s");
    expect(formatEta(125)).toBe("2 min 5 s");
    expect(formatEta(120)).toBe("2 min");
    expect(formatEta(3900)).toBe("1 h 5 min");
    expect(formatEta(null)).toBe("—");
  });

  it("percentages and dates", () => {
    expect(formatPercent(42.4)).toBe("42 %");
    expect(formatPercent(120)).toBe("100 %");
    expect(formatPercent(null)).toBe("—");
    expect(formatDate("2026-11-30T07:05:00Z")).toMatch(/2026/);
    expect(formatDate("not a date")).toBe("—");
  });
});
