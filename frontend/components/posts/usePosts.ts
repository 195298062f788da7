"use client";
// The posts page's data: one view ("Upcoming" or "Past") of the user's posts, the accounts they go
// to (for names), and the edits the page makes (a post updated by polling or cancelled). Live status
// comes from usePostUpdates.
//
// GET /api/posts filters by one status, so a view asks once per status it shows and pages each with
// its own cursor; the page shows them merged in time order (upcoming: soonest first; past: latest first).
import { useCallback, useEffect, useRef, useState } from "react";
import { POST_VIEWS, listAccounts, listPosts, type Post, type PostStatus, type PostView, type SocialAccount } from "@/lib/api/social";
import { describeError, toApiError } from "@/lib/axios";

export const PAGE_SIZE = 20;

export interface Posts {
  posts: Post[];
  accounts: SocialAccount[];
  status: "loading" | "ready" | "error";
  error: string | null;
  hasMore: boolean;
  loadingMore: boolean;
  loadMoreError: string | null;
  loadMore: () => Promise<void>;
  reload: () => void;
  update: (post: Post) => void;
  remove: (id: string) => void;
}

type Cursors = Partial<Record<PostStatus, string | null>>;

function timeOf(p: Post): number {
  const t = Date.parse(p.status === "published" && p.published_at ? p.published_at : p.scheduled_at);
  return Number.isFinite(t) ? t : 0;
}

/** Upcoming posts soonest first; past ones latest first. */
function inOrder(view: PostView, list: Post[]): Post[] {
  const sign = view === "upcoming" ? 1 : -1;
  return [...list].sort((a, b) => sign * (timeOf(a) - timeOf(b)));
}

/** The next page of every status that has one (`cursors` undefined: the first pages). */
async function fetchPages(view: PostView, cursors: Cursors | undefined, signal?: AbortSignal) {
  const statuses = POST_VIEWS[view].filter((s) => !cursors || cursors[s]);
  const pages = await Promise.all(statuses.map((status) => listPosts({ status, cursor: cursors?.[status], limit: PAGE_SIZE }, signal)));
  const next: Cursors = { ...cursors };
  const items: Post[] = [];
  statuses.forEach((s, i) => {
    const page = pages[i]!;
    next[s] = page.next_cursor;
    // The view decides what is listed, even if the server sends more.
    items.push(...page.items.filter((p) => p.status === s));
  });
  return { items, next };
}

export function usePosts(view: PostView): Posts {
  const [posts, setPosts] = useState<Post[]>([]);
  const [accounts, setAccounts] = useState<SocialAccount[]>([]);
  const [status, setStatus] = useState<Posts["status"]>("loading");
  const [error, setError] = useState<string | null>(null);
  const [cursors, setCursors] = useState<Cursors>({});
  const [loadingMore, setLoadingMore] = useState(false);
  const [loadMoreError, setLoadMoreError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  const alive = useRef(true);

  useEffect(() => {
    const controller = new AbortController();
    listAccounts(controller.signal).then(setAccounts, () => undefined); // names only: the page works without them
    return () => controller.abort();
  }, []);

  useEffect(() => {
    alive.current = true;
    const controller = new AbortController();
    fetchPages(view, undefined, controller.signal)
      .then(({ items, next }) => {
        setPosts(inOrder(view, items));
        setCursors(next);
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
  }, [view, generation]);

  const hasMore = Object.values(cursors).some(Boolean);

  const loadMore = useCallback(async () => {
    if (!hasMore || loadingMore) return;
    setLoadingMore(true);
    setLoadMoreError(null);
    try {
      const { items, next } = await fetchPages(view, cursors);
      if (!alive.current) return;
      setPosts((list) => {
        const seen = new Set(list.map((p) => p.id));
        return [...list, ...inOrder(view, items.filter((p) => !seen.has(p.id)))];
      });
      setCursors(next);
    } catch (err) {
      if (alive.current) setLoadMoreError(describeError(toApiError(err)));
    } finally {
      if (alive.current) setLoadingMore(false);
    }
  }, [view, cursors, hasMore, loadingMore]);

  const reload = useCallback(() => {
    setStatus("loading");
    setError(null);
    setPosts([]);
    setCursors({});
    setLoadMoreError(null);
    setGeneration((g) => g + 1);
  }, []);

  // A post that changes status stays where it is until the view is loaded again: nothing jumps.
  const update = useCallback((post: Post) => setPosts((list) => list.map((p) => (p.id === post.id ? post : p))), []);
  const remove = useCallback((id: string) => setPosts((list) => list.filter((p) => p.id !== id)), []);

  return { posts, accounts, status, error, hasMore, loadingMore, loadMoreError, loadMore, reload, update, remove };
}
