"use client";
// Live status of posts: while any post is publishing, or scheduled with its time come (the queue is
// about to pick it up), polls GET /api/posts/{id} for those posts with backoff (2 s growing to 15 s
// while nothing changes); stops when none is left to watch and when the component goes away. A post
// scheduled for later wakes the watch at its time.
import { useEffect, useRef, useState } from "react";
import { getPost, type Post } from "@/lib/api/social";
import { toApiError } from "@/lib/axios";
import { startPolling, type BackoffOptions } from "./poll";

/** Longest single wait for a later post (setTimeout cannot wait longer than ~24 days anyway). */
const MAX_WAKE_MS = 6 * 60 * 60 * 1000;

/** Whether a post's status may change any moment now. */
export function isLive(p: Pick<Post, "status" | "scheduled_at">, now: number): boolean {
  return p.status === "publishing" || (p.status === "scheduled" && Date.parse(p.scheduled_at) <= now);
}

export interface PostUpdateHandlers {
  onUpdate: (post: Post) => void;
  /** The post no longer exists (404). */
  onGone?: (id: string) => void;
}

type Answer = { post: Post } | { gone: string };

export function usePostUpdates(posts: readonly Post[], handlers: PostUpdateHandlers, options: BackoffOptions = {}): void {
  const { minDelayMs = 2000, maxDelayMs = 15000, factor = 1.5 } = options;
  const latest = useRef({ posts, handlers });
  useEffect(() => {
    latest.current = { posts, handlers };
  });
  const [wake, setWake] = useState(0);

  // Restart only when something that decides what to watch changes.
  const key = posts
    .filter((p) => p.status === "scheduled" || p.status === "publishing")
    .map((p) => `${p.id}|${p.status}|${p.scheduled_at}`)
    .join(",");

  useEffect(() => {
    if (!key) return;
    const now = Date.now();
    const pending = latest.current.posts.filter((p) => p.status === "scheduled" || p.status === "publishing");
    const live = pending.filter((p) => isLive(p, now));
    if (live.length === 0) {
      const next = Math.min(...pending.map((p) => Date.parse(p.scheduled_at)).filter(Number.isFinite));
      if (!Number.isFinite(next)) return;
      const t = setTimeout(() => setWake((w) => w + 1), Math.min(MAX_WAKE_MS, Math.max(0, next - now)));
      return () => clearTimeout(t);
    }
    const ids = live.map((p) => p.id);
    return startPolling<Answer[]>(
      {
        fetch: (signal) =>
          Promise.all(
            ids.map((id) =>
              getPost(id, signal).then(
                (post): Answer => ({ post }),
                (err: unknown): Answer => {
                  if (toApiError(err).status === 404) return { gone: id };
                  throw err;
                },
              ),
            ),
          ),
        fingerprint: (answers) => answers.map((a) => ("post" in a ? `${a.post.id}|${a.post.status}` : `-${a.gone}`)).join(","),
        onData: (answers) => {
          let watching = false;
          for (const a of answers) {
            if ("gone" in a) latest.current.handlers.onGone?.(a.gone);
            else {
              latest.current.handlers.onUpdate(a.post);
              if (isLive(a.post, Date.now())) watching = true;
            }
          }
          return !watching;
        },
        onError: () => false,
      },
      { minDelayMs, maxDelayMs, factor, immediate: false },
    );
  }, [key, wake, minDelayMs, maxDelayMs, factor]);
}
