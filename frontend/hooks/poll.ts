// Polling with backoff, for hooks that follow one thing on the server until it settles (an import,
// a video's processing, a clip, posts): the first poll at once, then `minDelayMs`, growing by `factor` up to
// `maxDelayMs` while nothing changes (or no answer comes), back to `minDelayMs` when something does.

export interface BackoffOptions {
  /** First delay and the delay after a change (ms). */
  minDelayMs?: number;
  /** The longest delay while nothing changes (ms). */
  maxDelayMs?: number;
  /** How much the delay grows after a poll that showed no change. */
  factor?: number;
  /** Whether the first poll goes out at once (default) or after `minDelayMs`. */
  immediate?: boolean;
}

export interface PollHandlers<T> {
  fetch: (signal: AbortSignal) => Promise<T>;
  /** What identifies a change between two answers. */
  fingerprint: (data: T) => string;
  /** Called with every answer; return true to stop (a terminal state). */
  onData: (data: T) => boolean;
  /** Called when a poll fails; return true to stop (the thing is gone), false to try again later. */
  onError: (err: unknown) => boolean;
}

/** Starts polling; the returned function stops it and aborts the request in flight. */
export function startPolling<T>(h: PollHandlers<T>, { minDelayMs = 1000, maxDelayMs = 5000, factor = 1.5, immediate = true }: BackoffOptions = {}): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const controller = new AbortController();
  let delay = minDelayMs;
  let lastSeen: string | null = null;

  const tick = async () => {
    try {
      const data = await h.fetch(controller.signal);
      if (stopped) return;
      const seen = h.fingerprint(data);
      delay = seen !== lastSeen ? minDelayMs : Math.min(maxDelayMs, delay * factor);
      lastSeen = seen;
      if (h.onData(data)) return;
    } catch (err) {
      if (stopped) return;
      if (h.onError(err)) return;
      delay = Math.min(maxDelayMs, delay * factor);
    }
    if (!stopped) timer = setTimeout(tick, delay);
  };
  if (immediate) void tick();
  else timer = setTimeout(tick, delay);
  return () => {
    stopped = true;
    clearTimeout(timer);
    controller.abort();
  };
}
