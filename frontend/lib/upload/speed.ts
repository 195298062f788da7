// Upload speed over a moving window (the last few seconds), and the time left at that speed.
// A whole-upload average hides a connection that just slowed down; a per-event rate jumps around.

export interface SpeedMeter {
  /** Record that `bytes` (a running total) were sent at time `t` (ms). */
  add(t: number, bytes: number): void;
  /** Bytes per second over the window ending at the last sample; 0 until two samples span time. */
  bytesPerSecond(): number;
  /** Seconds left for `total` bytes at the current speed; null while the speed is unknown. */
  etaSeconds(total: number): number | null;
  reset(): void;
}

export function createSpeedMeter(windowMs = 5_000): SpeedMeter {
  let samples: { t: number; bytes: number }[] = [];
  return {
    add(t, bytes) {
      const last = samples.at(-1);
      // A retried block takes its bytes back: start the window again rather than report a negative speed.
      if (last && bytes < last.bytes) samples = [];
      samples.push({ t, bytes });
      // Keep one sample at or before the window's start, so the window is always fully covered.
      while (samples.length > 2 && (samples[1]?.t ?? t) <= t - windowMs) samples.shift();
    },
    bytesPerSecond() {
      const first = samples[0];
      const last = samples.at(-1);
      if (!first || !last || last.t <= first.t) return 0;
      return ((last.bytes - first.bytes) * 1000) / (last.t - first.t);
    },
    etaSeconds(total) {
      const last = samples.at(-1);
      const speed = this.bytesPerSecond();
      if (!last || speed <= 0) return null;
      return Math.max(0, Math.ceil((total - last.bytes) / speed));
    },
    reset() {
      samples = [];
    },
  };
}
