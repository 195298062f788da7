"use client";
// The clips of one video (GET /api/videos/{id}/clips), and the edits the page makes to the list.
import { useCallback, useEffect, useState } from "react";
import { api, describeError, toApiError } from "@/lib/axios";
import type { Clip, ClipList } from "@/lib/api/types";

export interface Clips {
  clips: Clip[];
  status: "loading" | "ready" | "error";
  error: string | null;
  reload: () => void;
  /** A clip just created goes first. */
  add: (clip: Clip) => void;
  /** A clip's newer state (settled) replaces the old one. */
  update: (clip: Clip) => void;
  remove: (id: string) => void;
}

/** The list shows the newest clip first (the one just made is at the top). */
function newestFirst(items: readonly Clip[]): Clip[] {
  return [...items].sort((a, b) => b.created_at.localeCompare(a.created_at));
}

export function useClips(videoId: string): Clips {
  const [clips, setClips] = useState<Clip[]>([]);
  const [status, setStatus] = useState<Clips["status"]>("loading");
  const [error, setError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    api
      .get<ClipList>(`/videos/${encodeURIComponent(videoId)}/clips`, { signal: controller.signal })
      .then(({ data }) => {
        setClips(newestFirst(data.items));
        setStatus("ready");
      })
      .catch((err: unknown) => {
        if (controller.signal.aborted) return;
        setError(describeError(toApiError(err)));
        setStatus("error");
      });
    return () => controller.abort();
  }, [videoId, generation]);

  const reload = useCallback(() => {
    setStatus("loading");
    setError(null);
    setGeneration((g) => g + 1);
  }, []);
  const add = useCallback((clip: Clip) => setClips((list) => [clip, ...list.filter((c) => c.id !== clip.id)]), []);
  const update = useCallback((clip: Clip) => setClips((list) => list.map((c) => (c.id === clip.id ? clip : c))), []);
  const remove = useCallback((id: string) => setClips((list) => list.filter((c) => c.id !== id)), []);

  return { clips, status, error, reload, add, update, remove };
}
