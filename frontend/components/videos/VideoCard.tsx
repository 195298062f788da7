"use client";

import dynamic from "next/dynamic";
import { useId, useRef, useState } from "react";
import { Button, Spinner, cx } from "@/components/ui";
import type { Video } from "@/lib/api/types";
import { formatBytes, formatDate, formatDuration } from "@/lib/format";
import { VideoPlayer } from "./VideoPlayer";
import { VideoStatus } from "./VideoStatus";

// The clip editor loads with the first player opened, not with the library.
const ClipStudio = dynamic(() => import("@/components/clips/ClipStudio"), {
  ssr: false,
  loading: () => (
    <div className="grid min-h-40 place-items-center border-t border-line p-4 text-muted lg:border-t-0 lg:border-l">
      <Spinner size="md" label="Loading the clip editor" />
    </div>
  ),
});

// The "Schedule post" form loads with the first press of its button, not with the library.
const SchedulePostDialog = dynamic(() => import("@/components/posts/SchedulePostDialog"), { ssr: false });

export interface VideoCardProps {
  video: Video;
  highlighted?: boolean;
  /** Whether this card's player is open (with the clip editor beside it). */
  playing: boolean;
  onPlayingChange: (playing: boolean) => void;
  onDelete: (video: Video) => void;
  onSettled: (id: string) => void;
}

function sourceWords(v: Video): string {
  if (v.source === "upload") return "Uploaded file";
  if (!v.source_url) return "Imported link";
  try {
    return `Imported from ${new URL(v.source_url).hostname}`;
  } catch {
    return "Imported link";
  }
}

/** One video: picture (or player), title, status, facts, actions. Fixed proportions, so nothing jumps. */
export function VideoCard({ video, highlighted = false, playing, onPlayingChange, onDelete, onSettled }: VideoCardProps) {
  const headingId = useId();
  const videoRef = useRef<HTMLVideoElement | null>(null);
  const ready = video.status === "ready";
  const open = playing && ready;
  // Mounted from the first press on (then only opened and closed), so focus returns to the button.
  const [scheduling, setScheduling] = useState<boolean | null>(null);

  return (
    <article
      id={`video-${video.id}`}
      aria-labelledby={headingId}
      className={cx(
        "flex min-w-0 flex-col overflow-hidden rounded-[var(--radius-card)] border bg-surface shadow-lg shadow-black/20 transition-shadow",
        open && "lg:grid lg:grid-cols-[minmax(0,3fr)_minmax(0,2fr)] lg:items-start",
        highlighted ? "border-accent ring-2 ring-accent/60" : "border-line",
      )}
    >
      <div className="flex min-w-0 flex-1 flex-col">
        {open ? (
          <VideoPlayer videoId={video.id} title={video.title} videoRef={videoRef} poster={video.thumbnail_url} />
        ) : (
          <Poster video={video} />
        )}

        <div className="flex flex-1 flex-col gap-2 p-4">
          <h2 id={headingId} className="truncate font-semibold text-ink" title={video.title}>
            {video.title}
          </h2>
          <VideoStatus video={video} onSettled={onSettled} />
          <dl className="flex flex-wrap gap-x-3 gap-y-0.5 text-xs text-muted">
            <div className="flex gap-1">
              <dt className="sr-only">Size</dt>
              <dd>{formatBytes(video.size_bytes)}</dd>
            </div>
            <div className="flex gap-1">
              <dt className="sr-only">Added</dt>
              <dd>
                <time dateTime={video.created_at}>{formatDate(video.created_at)}</time>
              </dd>
            </div>
            <div className="flex min-w-0 gap-1">
              <dt className="sr-only">Source</dt>
              <dd className="truncate" title={video.source_url ?? undefined}>
                {sourceWords(video)}
              </dd>
            </div>
          </dl>
          <div className="mt-auto flex gap-2 pt-2">
            {ready && (
              <Button size="sm" variant={open ? "secondary" : "primary"} onClick={() => onPlayingChange(!open)}>
                {open ? "Close player" : "Play"}
              </Button>
            )}
            {ready && (
              <Button size="sm" variant="secondary" aria-describedby={headingId} onClick={() => setScheduling(true)}>
                Schedule post
              </Button>
            )}
            <Button size="sm" variant="ghost" onClick={() => onDelete(video)} className="ml-auto">
              Delete
            </Button>
          </div>
        </div>
      </div>
      {open && <ClipStudio video={video} videoRef={videoRef} />}
      {scheduling !== null && (
        <SchedulePostDialog
          open={scheduling}
          onClose={() => setScheduling(false)}
          target={{ kind: "video", id: video.id, title: video.title }}
        />
      )}
    </article>
  );
}

/**
 * The poster frame in a fixed 16:9 box (so nothing moves when it arrives), or a placeholder while
 * there is none or its URL has expired; the duration in a corner. Decorative: the title names the card.
 */
function Poster({ video }: { video: Video }) {
  const [broken, setBroken] = useState<string | null>(null);
  const src = video.thumbnail_url && video.thumbnail_url !== broken ? video.thumbnail_url : null;
  return (
    <div className="relative grid aspect-video w-full place-items-center overflow-hidden bg-raised text-muted">
      {src ? (
        // eslint-disable-next-line @next/next/no-img-element -- a SAS URL from storage; static export has no image optimizer
        <img
          src={src}
          alt=""
          className="absolute inset-0 size-full object-cover"
          loading="lazy"
          decoding="async"
          onError={() => setBroken(src)}
        />
      ) : (
        <svg aria-hidden="true" viewBox="0 0 24 24" className="size-10 fill-none stroke-current" strokeWidth="1.4">
          <rect x="3" y="5" width="18" height="14" rx="2.5" />
          <path d="m10 9.5 4.5 2.5-4.5 2.5v-5Z" />
        </svg>
      )}
      {video.duration_seconds !== null && (
        <span className="absolute right-2 bottom-2 rounded bg-black/75 px-1.5 py-0.5 text-xs font-medium text-white tabular-nums">
          <span className="sr-only">Duration </span>
          {formatDuration(video.duration_seconds)}
        </span>
      )}
    </div>
  );
}

/** The card's shape while the page loads. */
export function VideoCardSkeleton() {
  return (
    <div aria-hidden="true" className="flex flex-col overflow-hidden rounded-[var(--radius-card)] border border-line bg-surface">
      <div className="aspect-video w-full animate-pulse bg-raised motion-reduce:animate-none" />
      <div className="flex flex-col gap-2 p-4">
        <div className="h-6 w-3/4 animate-pulse rounded bg-raised motion-reduce:animate-none" />
        <div className="h-5 w-1/3 animate-pulse rounded bg-raised motion-reduce:animate-none" />
        <div className="h-2" />
        <div className="h-4 w-2/3 animate-pulse rounded bg-raised motion-reduce:animate-none" />
        <div className="h-10 pt-2">
          <div className="h-8 w-16 animate-pulse rounded-lg bg-raised motion-reduce:animate-none" />
        </div>
      </div>
    </div>
  );
}
