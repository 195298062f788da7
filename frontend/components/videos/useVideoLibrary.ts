"use client";
// The library's data: pages of the user's videos (cursor paging), and the edits the page makes to
// them (a video removed, a video refreshed after its import or upload finished).
import { useCallback, useEffect, useRef, useState } from "react";
import { api, describeError, toApiError } from "@/lib/axios";
import type { Video, VideoPage, VideoResponse } from "@/lib/api/types";

export const PAGE_SIZE = 24;

export interface VideoLibrary {
  videos: Video[];
  status: "loading" | "ready" | "error";
  error: string | null;
  hasMore: boolean;
  loadingMore: boolean;
  loadMoreError: string | null;
  loadMore: () => Promise<void>;
  reload: () => void;
  remove: (id: string) => void;
  /** Fetches one video again (GET /api/videos/{id}) and puts it in place. */
  refresh: (id: string) => Promise<void>;
}

export function useVideoLibrary(): VideoLibrary {
  const [videos, setVideos] = useState<Video[]>([]);
  const [status, setStatus] = useState<VideoLibrary["status"]>("loading");
  const [error, setError] = useState<string | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [loadMoreError, setLoadMoreError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  const alive = useRef(true);

  useEffect(() => {
    alive.current = true;
    const controller = new AbortController();
    api
      .get<VideoPage>("/videos", { params: { limit: PAGE_SIZE }, signal: controller.signal })
      .then(({ data }) => {
        setVideos(data.items);
        setCursor(data.next_cursor);
        setStatus("ready");
      })
      .catch((err: unknown) => {
        if (controller.signal.aborted) return;
        setError(describeError(toApiError(err)));
        setStatus("error");
      });
    return () => {
      alive.current = false;
      controller.abort();
    };
  }, [generation]);

  const loadMore = useCallback(async () => {
    if (!cursor || loadingMore) return;
    setLoadingMore(true);
    setLoadMoreError(null);
    try {
      const { data } = await api.get<VideoPage>("/videos", { params: { limit: PAGE_SIZE, cursor } });
      if (!alive.current) return;
      setVideos((list) => {
        const seen = new Set(list.map((v) => v.id));
        return [...list, ...data.items.filter((v) => !seen.has(v.id))];
      });
      setCursor(data.next_cursor);
    } catch (err) {
      if (alive.current) setLoadMoreError(describeError(toApiError(err)));
    } finally {
      if (alive.current) setLoadingMore(false);
    }
  }, [cursor, loadingMore]);

  const reload = useCallback(() => {
    setStatus("loading");
    setError(null);
    setGeneration((g) => g + 1);
  }, []);

  const remove = useCallback((id: string) => setVideos((list) => list.filter((v) => v.id !== id)), []);

  const refresh = useCallback(async (id: string) => {
    try {
      const { data } = await api.get<VideoResponse>(`/videos/${encodeURIComponent(id)}`);
      if (alive.current) setVideos((list) => list.map((v) => (v.id === id ? data.video : v)));
    } catch (err) {
      if (alive.current && toApiError(err).status === 404) setVideos((list) => list.filter((v) => v.id !== id));
    }
  }, []);

  return { videos, status, error, hasMore: cursor !== null, loadingMore, loadMoreError, loadMore, reload, remove, refresh };
}
