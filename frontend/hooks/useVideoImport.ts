"use client";
// Starts an import from a URL, or follows one already running, and keeps its progress fresh: polls
// GET /api/imports/{id} with backoff (1 s growing to 5 s while nothing moves, back to 1 s when it
// does), stops at a terminal state, when the component goes away and when the video is being
// deleted (lib/following), and can cancel.
import { useCallback, useEffect, useRef, useState } from "react";
import { api, describeError, fieldError, toApiError } from "@/lib/axios";
import type { ImportAccepted, ImportProgress, ImportStatus } from "@/lib/api/types";
import { follow, useFollowingPaused } from "@/lib/following";
import { startPolling } from "./poll";

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
  const paused = useFollowingPaused(videoId);
  const polling = phase === "running" && videoId !== null && !paused;

  useEffect(() => {
    if (!polling || !videoId) return;
    const stop = startPolling<ImportProgress>(
      {
        fetch: async (signal) => (await api.get<ImportProgress>(`/imports/${encodeURIComponent(videoId)}`, { signal })).data,
        fingerprint: (p) => `${p.status}|${p.step}|${p.bytes_uploaded}|${p.percent}`,
        onData: (data) => {
          const next = phaseOf(data.status);
          setState((s) => ({ ...s, progress: data, phase: next, error: importFailureReason(data), reconnecting: false }));
          if (next === "running") return false;
          onSettled.current?.(data);
          return true;
        },
        onError: (err) => {
          if (toApiError(err).status === 404) {
            setState((s) => ({ ...s, phase: "failed", error: "This import no longer exists.", reconnecting: false }));
            return true;
          }
          setState((s) => ({ ...s, reconnecting: true }));
          return false;
        },
      },
      { minDelayMs, maxDelayMs, factor },
    );
    return follow(videoId, stop);
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
