"use client";
// Follows one clip while it is being made: polls GET /api/clips/{id} with backoff (1 s growing to
// 5 s while nothing moves), stops at a terminal state (ready, failed, cancelled), when the
// component goes away and when the clip or its video is being deleted (lib/following).
import { useEffect, useRef, useState } from "react";
import { api, toApiError } from "@/lib/axios";
import type { Clip, ClipResponse, ClipStatus } from "@/lib/api/types";
import { follow, useFollowingPaused } from "@/lib/following";
import { startPolling, type BackoffOptions } from "./poll";

export const RUNNING_CLIP_STATUSES: ReadonlySet<ClipStatus> = new Set(["queued", "processing"]);

export interface ClipProgressOptions extends BackoffOptions {
  /** Called once when the clip reaches ready, failed or cancelled. */
  onSettled?: (clip: Clip) => void;
  /** Called when the clip no longer exists (404). */
  onGone?: (id: string) => void;
}

export interface ClipProgress {
  /** The last state seen: the given clip until the first answer. */
  clip: Clip;
  /** The last poll got no answer; still trying. */
  reconnecting: boolean;
}

export function useClipProgress(initial: Clip, options: ClipProgressOptions = {}): ClipProgress {
  const { minDelayMs, maxDelayMs, factor } = options;
  const [clip, setClip] = useState(initial);
  const [reconnecting, setReconnecting] = useState(false);
  const callbacks = useRef(options);
  useEffect(() => {
    callbacks.current = options;
  });

  const id = clip.id;
  const videoId = clip.video_id;
  const paused = useFollowingPaused(id, videoId);
  const running = RUNNING_CLIP_STATUSES.has(clip.status) && !paused;

  useEffect(() => {
    if (!running) return;
    const stop = startPolling<Clip>(
      {
        fetch: async (signal) => (await api.get<ClipResponse>(`/clips/${encodeURIComponent(id)}`, { signal })).data.clip,
        fingerprint: (c) => `${c.status}|${c.progress?.percent ?? ""}|${c.progress?.updated_at ?? ""}`,
        onData: (c) => {
          setClip(c);
          setReconnecting(false);
          if (RUNNING_CLIP_STATUSES.has(c.status)) return false;
          callbacks.current.onSettled?.(c);
          return true;
        },
        onError: (err) => {
          if (toApiError(err).status === 404) {
            callbacks.current.onGone?.(id);
            return true;
          }
          setReconnecting(true);
          return false;
        },
      },
      { minDelayMs, maxDelayMs, factor },
    );
    return follow([id, videoId], stop);
  }, [id, videoId, running, minDelayMs, maxDelayMs, factor]);

  return { clip, reconnecting };
}
