"use client";
// The posts page's data: one view ("Upcoming" or "Past") of the user's posts, cursor paging, the
// accounts they go to (for names), and the edits the page makes (a post updated by polling or
// cancelled). Live status comes from usePostUpdates.
import { useCallback, useEffect, useRef, useState } from "react";
import { POST_VIEWS, listAccounts, listPosts, type Post, type PostView, type SocialAccount } from "@/lib/api/social";
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

export function usePosts(view: PostView): Posts {
  const [posts, setPosts] = useState<Post[]>([]);
  const [accounts, setAccounts] = useState<SocialAccount[]>([]);
  const [status, setStatus] = useState<Posts["status"]>("loading");
  const [error, setError] = useState<string | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [loadMoreError, setLoadMoreError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  const alive = useRef(true);
  const statuses = POST_VIEWS[view];

  useEffect(() => {
    const controller = new AbortController();
    listAccounts(controller.signal).then(setAccounts, () => undefined); // names only: the page works without them
    return () => controller.abort();
  }, []);

  useEffect(() => {
    alive.current = true;
    const controller = new AbortController();
    listPosts({ statuses, limit: PAGE_SIZE }, controller.signal)
      .then((page) => {
        // The view decides what is listed, even if the server sends more.
        setPosts(page.items.filter((p) => (statuses as readonly string[]).includes(p.status)));
        setCursor(page.next_cursor);
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
  }, [statuses, generation]);

  const loadMore = useCallback(async () => {
    if (!cursor || loadingMore) return;
    setLoadingMore(true);
    setLoadMoreError(null);
    try {
      const page = await listPosts({ statuses, cursor, limit: PAGE_SIZE });
      if (!alive.current) return;
      setPosts((list) => {
        const seen = new Set(list.map((p) => p.id));
        return [...list, ...page.items.filter((p) => !seen.has(p.id) && (statuses as readonly string[]).includes(p.status))];
      });
      setCursor(page.next_cursor);
    } catch (err) {
      if (alive.current) setLoadMoreError(describeError(toApiError(err)));
    } finally {
      if (alive.current) setLoadingMore(false);
    }
  }, [cursor, loadingMore, statuses]);

  const reload = useCallback(() => {
    setStatus("loading");
    setError(null);
    setPosts([]);
    setCursor(null);
    setLoadMoreError(null);
    setGeneration((g) => g + 1);
  }, []);

  // A post that changes status stays where it is until the view is loaded again: nothing jumps.
  const update = useCallback((post: Post) => setPosts((list) => list.map((p) => (p.id === post.id ? post : p))), []);
  const remove = useCallback((id: string) => setPosts((list) => list.filter((p) => p.id !== id)), []);

  return { posts, accounts, status, error, hasMore: cursor !== null, loadingMore, loadMoreError, loadMore, reload, update, remove };
}
