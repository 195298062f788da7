"use client";

import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { Alert, Button, EmptyState, ProgressBar, buttonClasses } from "@/components/ui";
import type { Video } from "@/lib/api/types";
import { formatBytes, formatPercent } from "@/lib/format";
import { ACTIVE_STATUSES, useUploadStore } from "@/lib/store/uploadStore";
import { DeleteVideoDialog } from "./DeleteVideoDialog";
import { VideoCard, VideoCardSkeleton } from "./VideoCard";
import { useVideoLibrary } from "./useVideoLibrary";

const SKELETONS = 6;

/** The user's videos: cards, paging, delete, live progress; `?video=<id>` highlights one. */
export function VideoLibrary() {
  const lib = useVideoLibrary();
  const highlight = useSearchParams().get("video");
  const [toDelete, setToDelete] = useState<Video | null>(null);
  /** The one card whose player (and clip editor) is open; it spans the whole row. */
  const [playingId, setPlayingId] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState("");
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    if (lib.status !== "ready" || !highlight) return;
    document.getElementById(`video-${highlight}`)?.scrollIntoView({ block: "center" });
  }, [lib.status, highlight]);

  return (
    <div className="flex flex-col gap-6">
      <header className="flex flex-wrap items-end justify-between gap-3">
        <h1 ref={heading} tabIndex={-1} className="text-2xl font-semibold tracking-tight focus:outline-none">
          Library
        </h1>
        <div className="flex gap-2">
          <Link href="/upload/" className={buttonClasses({ variant: "primary", size: "sm" })}>
            Upload
          </Link>
          <Link href="/import/" className={buttonClasses({ variant: "secondary", size: "sm" })}>
            Import a link
          </Link>
        </div>
      </header>

      <p aria-live="polite" className="sr-only">
        {announcement}
      </p>

      <PendingUploads known={lib.videos} />

      {lib.status === "error" && (
        <Alert
          tone="error"
          title="Your videos could not be loaded"
          action={
            <Button size="sm" variant="secondary" onClick={lib.reload}>
              Try again
            </Button>
          }
        >
          {lib.error}
        </Alert>
      )}

      {lib.status === "loading" && (
        <div role="status" aria-label="Loading your videos" className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
          {Array.from({ length: SKELETONS }, (_, i) => (
            <VideoCardSkeleton key={i} />
          ))}
        </div>
      )}

      {lib.status === "ready" && lib.videos.length === 0 && (
        <EmptyState
          title="No videos yet"
          description="Upload files from your device or import one from a link; they show up here."
          action={
            <div className="flex flex-wrap justify-center gap-2">
              <Link href="/upload/" className={buttonClasses({ variant: "primary", size: "sm" })}>
                Upload videos
              </Link>
              <Link href="/import/" className={buttonClasses({ variant: "secondary", size: "sm" })}>
                Import from a link
              </Link>
            </div>
          }
        />
      )}

      {lib.status === "ready" && lib.videos.length > 0 && (
        <>
          <ul className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
            {lib.videos.map((v) => (
              <li key={v.id} className={v.id === playingId ? "min-w-0 sm:col-span-2 lg:col-span-3" : "min-w-0"}>
                <VideoCard
                  video={v}
                  highlighted={v.id === highlight}
                  playing={v.id === playingId}
                  onPlayingChange={(open) => setPlayingId(open ? v.id : null)}
                  onDelete={setToDelete}
                  onSettled={lib.refresh}
                />
              </li>
            ))}
          </ul>
          {lib.loadMoreError && <Alert tone="error">{lib.loadMoreError}</Alert>}
          {lib.hasMore && (
            <div className="flex justify-center">
              <Button variant="secondary" onClick={() => void lib.loadMore()} loading={lib.loadingMore}>
                Load more
              </Button>
            </div>
          )}
        </>
      )}

      <DeleteVideoDialog
        video={toDelete}
        onClose={() => setToDelete(null)}
        onDeleted={(id) => {
          const title = toDelete?.title ?? "The video";
          setToDelete(null);
          lib.remove(id);
          setAnnouncement(`${title} deleted.`);
          heading.current?.focus(); // the card that had focus is gone
        }}
      />
    </div>
  );
}

/** What the page shows before it can read the query string: the same frame, skeleton cards. */
export function VideoLibrarySkeleton() {
  return (
    <div className="flex flex-col gap-6">
      <header className="flex flex-wrap items-end justify-between gap-3">
        <h1 className="text-2xl font-semibold tracking-tight">Library</h1>
        <div className="h-8" />
      </header>
      <div role="status" aria-label="Loading your videos" className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
        {Array.from({ length: SKELETONS }, (_, i) => (
          <VideoCardSkeleton key={i} />
        ))}
      </div>
    </div>
  );
}

/** This tab's uploads whose video is not in the list yet (started after it loaded). */
function PendingUploads({ known }: { known: readonly Video[] }) {
  const items = useUploadStore((s) => s.items);
  const ids = new Set(known.map((v) => v.id));
  const pending = items.filter((i) => ACTIVE_STATUSES.has(i.status) && (i.videoId === null || !ids.has(i.videoId)));
  if (pending.length === 0) return null;
  return (
    <section aria-labelledby="pending-uploads" className="rounded-[var(--radius-card)] border border-line bg-surface p-4">
      <h2 id="pending-uploads" className="mb-3 text-sm font-semibold text-muted">
        Uploading now
      </h2>
      <ul className="flex flex-col gap-3">
        {pending.map((i) => {
          const percent = i.size > 0 ? (i.sentBytes / i.size) * 100 : 0;
          return (
            <li key={i.id} className="flex flex-col gap-1.5">
              <div className="flex justify-between gap-3 text-sm">
                <span className="truncate">{i.name}</span>
                <span className="shrink-0 text-muted tabular-nums">
                  {formatPercent(percent)} · {formatBytes(i.sentBytes)} of {formatBytes(i.size)}
                </span>
              </div>
              <ProgressBar label={`Upload of ${i.name}`} value={percent} />
            </li>
          );
        })}
      </ul>
    </section>
  );
}
