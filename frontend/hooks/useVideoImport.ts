"use client";
// Starts an import from a URL, or follows one already running, and keeps its progress fresh: polls
// GET /api/imports/{id} with backoff (1 s growing to 5 s while nothing moves, back to 1 s when it
// does), stops at a terminal state and when the component goes away, and can cancel.
import { useCallback, useEffect, useRef, useState } from "react";
import { api, describeError, fieldError, toApiError } from "@/lib/axios";
import type { ImportAccepted, ImportProgress, ImportStatus } from "@/lib/api/types";

export type ImportPhase = "idle" | "starting" | "running" | "ready" | "failed" | "cancelled";

export const TERMINAL_IMPORT_STATUSES: ReadonlySet<ImportStatus> = new Set(["ready", "failed", "cancelled"]);

export interface PollingOptions {
  /** First delay and the delay after progress moved (ms). */
  minDelayMs?: number;
  /** The longest delay while nothing moves (ms). */
  maxDelayMs?: number;
  /** How much the delay grows after a poll that showed no change. */
  factor?: number;
  /** Called once when the import reaches ready, failed or cancelled. */
  onSettled?: (progress: ImportProgress) => void;
}

export interface VideoImport {
  videoId: string | null;
  /** The last progress seen; null before the first answer. */
  progress: ImportProgress | null;
  phase: ImportPhase;
  /** Why the import (or starting or cancelling it) failed, in words; null otherwise. */
  error: string | null;
  /** A problem with the URL itself (validation), for the URL field. */
  urlError: string | null;
  /** The last poll got no answer; still trying. */
  reconnecting: boolean;
  cancelling: boolean;
  start: (url: string) => Promise<void>;
  cancel: () => Promise<void>;
  /** Back to idle, to import another link. */
  reset: () => void;
}

interface State {
  startedId: string | null;
  progress: ImportProgress | null;
  phase: ImportPhase;
  error: string | null;
  urlError: string | null;
  reconnecting: boolean;
  cancelling: boolean;
}

const initial: State = {
  startedId: null,
  progress: null,
  phase: "idle",
  error: null,
  urlError: null,
  reconnecting: false,
  cancelling: false,
};

function phaseOf(status: ImportStatus): ImportPhase {
  return TERMINAL_IMPORT_STATUSES.has(status) ? (status as ImportPhase) : "running";
}

/** The reason an import failed, as a sentence. */
export function importFailureReason(p: Pick<ImportProgress, "error" | "status">): string | null {
  if (p.status !== "failed") return null;
  const reason = p.error?.trim();
  if (!reason) return "The import failed.";
  const sentence = reason.charAt(0).toUpperCase() + reason.slice(1);
  return /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
}

/** `followId`: an import started elsewhere (the library after a reload) to follow from the start. */
export function useVideoImport(followId?: string | null, options: PollingOptions = {}): VideoImport {
  const { minDelayMs = 1000, maxDelayMs = 5000, factor = 1.5 } = options;
  const [state, setState] = useState<State>(initial);
  const onSettled = useRef(options.onSettled);
  useEffect(() => {
    onSettled.current = options.onSettled;
  });

  const videoId = state.startedId ?? followId ?? null;
  const phase: ImportPhase = state.phase === "idle" && videoId ? "running" : state.phase;
  const polling = phase === "running" && videoId !== null;

  useEffect(() => {
    if (!polling || !videoId) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const controller = new AbortController();
    let delay = minDelayMs;
    let lastSeen: string | null = null;

    const tick = async () => {
      try {
        const { data } = await api.get<ImportProgress>(`/imports/${encodeURIComponent(videoId)}`, {
          signal: controller.signal,
        });
        if (stopped) return;
        const seen = `${data.status}|${data.step}|${data.bytes_uploaded}|${data.percent}`;
        delay = seen !== lastSeen ? minDelayMs : Math.min(maxDelayMs, delay * factor);
        lastSeen = seen;
        const next = phaseOf(data.status);
        setState((s) => ({ ...s, progress: data, phase: next, error: importFailureReason(data), reconnecting: false }));
        if (next !== "running") {
          onSettled.current?.(data);
          return;
        }
      } catch (err) {
        if (stopped) return;
        const e = toApiError(err);
        if (e.status === 404) {
          setState((s) => ({ ...s, phase: "failed", error: "This import no longer exists.", reconnecting: false }));
          return;
        }
        delay = Math.min(maxDelayMs, delay * factor);
        setState((s) => ({ ...s, reconnecting: true }));
      }
      timer = setTimeout(tick, delay);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
      controller.abort();
    };
  }, [polling, videoId, minDelayMs, maxDelayMs, factor]);

  const start = useCallback(async (url: string) => {
    setState({ ...initial, phase: "starting" });
    try {
      const { data } = await api.post<ImportAccepted>("/imports", { url: url.trim() });
      setState({ ...initial, startedId: data.video_id, phase: "running" });
    } catch (err) {
      const e = toApiError(err);
      const urlError = fieldError(e, "url", "The URL") ?? null;
      setState({ ...initial, phase: "idle", urlError, error: urlError ? null : describeError(e) });
    }
  }, []);

  const cancel = useCallback(async () => {
    if (!videoId || phase !== "running") return;
    setState((s) => ({ ...s, cancelling: true }));
    try {
      await api.post<ImportAccepted>(`/imports/${encodeURIComponent(videoId)}/cancel`);
      setState((s) => ({
        ...s,
        startedId: videoId,
        phase: "cancelled",
        cancelling: false,
        progress: s.progress ? { ...s.progress, status: "cancelled", step: "cancelled" } : s.progress,
      }));
    } catch (err) {
      setState((s) => ({ ...s, cancelling: false, error: `Could not cancel: ${describeError(toApiError(err))}` }));
    }
  }, [videoId, phase]);

  const reset = useCallback(() => setState(initial), []);

  return {
    videoId,
    progress: state.progress,
    phase,
    error: state.error,
    urlError: state.urlError,
    reconnecting: state.reconnecting,
    cancelling: state.cancelling,
    start,
    cancel,
    reset,
  };
}
