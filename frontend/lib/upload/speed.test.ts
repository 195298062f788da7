import { describe, expect, it } from "vitest";
import { createSpeedMeter } from "./speed";

describe("createSpeedMeter", () => {
  it("is unknown until time has passed", () => {
    const m = createSpeedMeter();
    expect(m.bytesPerSecond()).toBe(0);
    m.add(1000, 0);
    expect(m.bytesPerSecond()).toBe(0);
    expect(m.etaSeconds(100)).toBeNull();
  });

  it("measures bytes per second and the time left", () => {
    const m = createSpeedMeter(5000);
    m.add(0, 0);
    m.add(1000, 1_000_000);
    m.add(2000, 2_000_000);
    expect(m.bytesPerSecond()).toBe(1_000_000);
    expect(m.etaSeconds(10_000_000)).toBe(8);
  });

  it("follows the recent speed, not the average since the start", () => {
    const m = createSpeedMeter(2000);
    m.add(0, 0);
    for (let t = 1000; t <= 10_000; t += 1000) m.add(t, t * 1000); // 1 MB/s for 10 s
    for (let t = 11_000; t <= 14_000; t += 1000) m.add(t, 10_000_000 + (t - 10_000) * 100); // then 100 kB/s
    expect(m.bytesPerSecond()).toBe(100_000);
  });

  it("starts over when the total goes back (a block retried)", () => {
    const m = createSpeedMeter();
    m.add(0, 0);
    m.add(1000, 500);
    m.add(2000, 300);
    expect(m.bytesPerSecond()).toBe(0);
    m.add(3000, 1300);
    expect(m.bytesPerSecond()).toBe(1000);
  });
});
