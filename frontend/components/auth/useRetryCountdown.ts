"use client";

import { useCallback, useEffect, useState } from "react";

/**
 * After a 429 the form waits as long as the server asked: `secondsLeft` counts down to 0 once a
 * second, and the submit button stays disabled meanwhile.
 */
export function useRetryCountdown(): [secondsLeft: number, start: (seconds: number | null) => void] {
  const [until, setUntil] = useState<number | null>(null);
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    if (until === null) return;
    const timer = window.setInterval(() => {
      const t = Date.now();
      setNow(t);
      if (t >= until) {
        setUntil(null);
        window.clearInterval(timer);
      }
    }, 1000);
    return () => window.clearInterval(timer);
  }, [until]);

  const start = useCallback((seconds: number | null) => {
    if (seconds === null || seconds <= 0) return;
    const t = Date.now();
    setNow(t);
    setUntil(t + seconds * 1000);
  }, []);

  return [until === null ? 0 : Math.max(0, Math.ceil((until - now) / 1000)), start];
}
