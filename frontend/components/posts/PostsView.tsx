"use client";

import Link from "next/link";
import { useCallback, useId, useRef, useState, type KeyboardEvent } from "react";
import { Alert, Button, Card, EmptyState, buttonClasses, cx, linkClasses } from "@/components/ui";
import { usePostUpdates } from "@/hooks/usePostUpdates";
import { formatDate } from "@/lib/format";
import { platformName, type Post, type PostView, type SocialAccount } from "@/lib/api/social";
import { CancelPostDialog } from "./CancelPostDialog";
import { postChangeWords, postStatusWords } from "./postWords";
import { usePosts } from "./usePosts";

const VIEWS: readonly { id: PostView; label: string }[] = [
  { id: "upcoming", label: "Upcoming" },
  { id: "past", label: "Past" },
];

/** The posts page: "Upcoming" and "Past" tabs over the user's posts, with live status. */
export function PostsView() {
  const [view, setView] = useState<PostView>("upcoming");
  const baseId = useId();
  const tabs = useRef<(HTMLButtonElement | null)[]>([]);

  // The tabs pattern: arrows move between tabs (and select them), Home/End jump to the ends.
  const onKeyDown = (e: KeyboardEvent<HTMLButtonElement>, index: number) => {
    const last = VIEWS.length - 1;
    const to =
      e.key === "ArrowRight" ? (index === last ? 0 : index + 1)
      : e.key === "ArrowLeft" ? (index === 0 ? last : index - 1)
      : e.key === "Home" ? 0
      : e.key === "End" ? last
      : null;
    if (to === null) return;
    e.preventDefault();
    setView(VIEWS[to]!.id);
    tabs.current[to]?.focus();
  };

  return (
    <div className="flex flex-col gap-6">
      <header className="flex flex-wrap items-end justify-between gap-3">
        <h1 className="text-2xl font-semibold tracking-tight">Posts</h1>
        <Link href="/library/" className={buttonClasses({ variant: "secondary", size: "sm" })}>
          Choose a video to post
        </Link>
      </header>

      <div role="tablist" aria-label="Posts to show" className="inline-flex w-fit gap-1 rounded-lg border border-line bg-surface p-1">
        {VIEWS.map((v, i) => {
          const selected = v.id === view;
          return (
            <button
              key={v.id}
              ref={(el) => {
                tabs.current[i] = el;
              }}
              type="button"
              role="tab"
              id={`${baseId}-tab-${v.id}`}
              aria-selected={selected}
              aria-controls={`${baseId}-panel`}
              tabIndex={selected ? 0 : -1}
              onClick={() => setView(v.id)}
              onKeyDown={(e) => onKeyDown(e, i)}
              className={cx(
                "h-8 rounded-md px-4 text-sm font-medium transition-colors focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-accent-strong",
                selected ? "bg-raised text-ink" : "text-muted hover:text-ink",
              )}
            >
              {v.label}
            </button>
          );
        })}
      </div>

      <div role="tabpanel" id={`${baseId}-panel`} aria-labelledby={`${baseId}-tab-${view}`}>
        {/* A fresh list per view: its own loading state, paging and polling. */}
        <PostList key={view} view={view} />
      </div>
    </div>
  );
}

function PostList({ view }: { view: PostView }) {
  const list = usePosts(view);
  const [toCancel, setToCancel] = useState<Post | null>(null);
  const [announcement, setAnnouncement] = useState("");
  const { update, remove } = list;

  const onUpdate = useCallback(
    (post: Post) => {
      update(post);
      // The same words twice are not read twice; a post still waiting for the queue says nothing new.
      if (post.status !== "scheduled") setAnnouncement(postChangeWords(post));
    },
    [update],
  );
  usePostUpdates(list.posts, { onUpdate, onGone: remove });

  const accountOf = (id: string) => list.accounts.find((a) => a.id === id);

  return (
    <div className="flex flex-col gap-4">
      <p aria-live="polite" className="sr-only">
        {announcement}
      </p>
      {list.status === "loading" && (
        <ul aria-hidden="true" className="flex flex-col gap-3">
          {[0, 1, 2].map((i) => (
            <li key={i} className="h-32 animate-pulse rounded-[var(--radius-card)] border border-line bg-surface motion-reduce:animate-none" />
          ))}
        </ul>
      )}
      {list.status === "error" && (
        <Alert
          tone="error"
          title="Your posts could not be loaded"
          action={
            <Button size="sm" variant="secondary" onClick={list.reload}>
              Try again
            </Button>
          }
        >
          {list.error}
        </Alert>
      )}
      {list.status === "ready" && list.posts.length === 0 && (
        <EmptyState
          title={view === "upcoming" ? "No upcoming posts" : "No past posts"}
          description={
            view === "upcoming"
              ? "Open a ready video or clip in your library and choose “Schedule post”."
              : "Posts appear here once they are published, fail or are cancelled."
          }
          action={
            view === "upcoming" ? (
              <Link href="/library/" className={buttonClasses({ variant: "primary", size: "sm" })}>
                Go to the library
              </Link>
            ) : undefined
          }
        />
      )}
      {list.posts.length > 0 && (
        <div className="flex flex-col gap-3">
          {list.posts.map((p) => (
            <PostCard key={p.id} post={p} account={accountOf(p.social_account_id)} onCancel={setToCancel} />
          ))}
        </div>
      )}
      {list.loadMoreError && <Alert tone="error">{list.loadMoreError}</Alert>}
      {list.status === "ready" && list.hasMore && (
        <Button variant="secondary" className="self-center" loading={list.loadingMore} onClick={() => void list.loadMore()}>
          Load more
        </Button>
      )}
      <CancelPostDialog
        post={toCancel}
        onClose={() => setToCancel(null)}
        onCancelled={(p) => {
          setToCancel(null);
          update(p);
          setAnnouncement(postChangeWords(p));
        }}
        onChanged={update}
      />
    </div>
  );
}

const STATUS_TONES: Record<Post["status"], string> = {
  scheduled: "text-ink",
  publishing: "text-accent-strong",
  published: "text-success",
  failed: "text-danger",
  cancelled: "text-muted",
};

function PostCard({ post, account, onCancel }: { post: Post; account: SocialAccount | undefined; onCancel: (p: Post) => void }) {
  const headingId = useId();
  const platform = platformName(account?.platform ?? "youtube");
  const when = post.status === "published" && post.published_at ? post.published_at : post.scheduled_at;
  const privacy = post.privacy.charAt(0).toUpperCase() + post.privacy.slice(1);
  const statusText = postStatusWords(post);

  return (
    <Card as="article" aria-labelledby={headingId} className="flex flex-col gap-2">
      <div className="flex min-w-0 items-baseline justify-between gap-3">
        <h2 id={headingId} className="min-w-0 flex-1 truncate font-semibold text-ink" title={post.title}>
          {post.title}
        </h2>
        <p className="shrink-0 text-xs text-muted">{post.clip_id ? "Clip" : "Video"}</p>
      </div>
      <dl className="flex flex-wrap gap-x-3 gap-y-0.5 text-sm text-muted">
        <div className="flex min-w-0 gap-1">
          <dt className="sr-only">Account</dt>
          <dd className="truncate">
            {platform} · {account?.display_name ?? "a disconnected account"}
          </dd>
        </div>
        {/* A scheduled post's status line already says when. */}
        {post.status !== "scheduled" && (
          <div className="flex gap-1">
            <dt className="sr-only">{post.status === "published" ? "Published at" : "Scheduled for"}</dt>
            <dd>
              <time dateTime={when}>{formatDate(when)}</time>
            </dd>
          </div>
        )}
        <div className="flex gap-1">
          <dt className="sr-only">Privacy</dt>
          <dd>{privacy}</dd>
        </div>
      </dl>
      <p className={cx("text-sm font-medium", STATUS_TONES[post.status])}>{statusText}</p>
      {(post.status === "scheduled" || (post.status === "published" && post.external_url)) && (
        <div className="flex flex-wrap items-center gap-3 pt-1">
          {post.status === "published" && post.external_url && (
            <a href={post.external_url} target="_blank" rel="noopener noreferrer" className={cx(linkClasses, "text-sm")}>
              View on {platform}
            </a>
          )}
          {post.status === "scheduled" && (
            <Button size="sm" variant="ghost" className="ml-auto" onClick={() => onCancel(post)}>
              Cancel post
            </Button>
          )}
        </div>
      )}
    </Card>
  );
}
