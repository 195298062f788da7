"use client";

import dynamic from "next/dynamic";
import { useCallback, useEffect, useId, useRef, useState } from "react";
import { Alert, Button, ProgressBar, Spinner, cx } from "@/components/ui";
import { MediaPlayer } from "@/components/videos/VideoPlayer";
import { RUNNING_CLIP_STATUSES, useClipProgress } from "@/hooks/useClipProgress";
import { api } from "@/lib/axios";
import type { Clip, ClipResponse } from "@/lib/api/types";
import { formatBytes, formatPercent } from "@/lib/format";
import { ASPECT_WORDS, clipMilestone, clipStatusWords, rangeWords } from "./clipWords";
import { DeleteClipDialog } from "./DeleteClipDialog";
import type { Clips } from "./useClips";

// The "Schedule post" form loads with the first press of its button.
const SchedulePostDialog = dynamic(() => import("@/components/posts/SchedulePostDialog"), { ssr: false });

export interface ClipListProps {
  clips: Clips;
  announce: (text: string) => void;
}

/** The clips of a video under its player: live progress while they are made, play, delete. */
export function ClipList({ clips, announce }: ClipListProps) {
  const headingId = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  const [toDelete, setToDelete] = useState<Clip | null>(null);
  const { remove } = clips;

  return (
    <section aria-labelledby={headingId} className="flex flex-col gap-3">
      <h3 id={headingId} ref={heading} tabIndex={-1} className="font-semibold text-ink focus:outline-none">
        Clips
      </h3>
      {clips.status === "loading" && <Spinner label="Loading the clips" />}
      {clips.status === "error" && (
        <Alert
          tone="error"
          title="The clips could not be loaded"
          action={
            <Button size="sm" variant="secondary" onClick={clips.reload}>
              Try again
            </Button>
          }
        >
          {clips.error}
        </Alert>
      )}
      {clips.status === "ready" && clips.clips.length === 0 && <p className="text-sm text-muted">No clips yet.</p>}
      {clips.clips.length > 0 && (
        <ul className="flex flex-col gap-3">
          {clips.clips.map((c) => (
            <ClipItem key={c.id} clip={c} onSettled={clips.update} onGone={remove} onDelete={setToDelete} announce={announce} />
          ))}
        </ul>
      )}
      <DeleteClipDialog
        clip={toDelete}
        onClose={() => setToDelete(null)}
        onDeleted={(c) => {
          setToDelete(null);
          remove(c.id);
          announce(`Clip “${c.title}” deleted.`);
          heading.current?.focus(); // the item that had focus is gone
        }}
      />
    </section>
  );
}

interface ClipItemProps {
  clip: Clip;
  onSettled: (clip: Clip) => void;
  onGone: (id: string) => void;
  onDelete: (clip: Clip) => void;
  announce: (text: string) => void;
}

function ClipItem({ clip: initial, onSettled, onGone, onDelete, announce }: ClipItemProps) {
  const titleId = useId();
  const { clip, reconnecting } = useClipProgress(initial, { onSettled, onGone });
  const [playing, setPlaying] = useState(false);
  // Mounted from the first press on (then only opened and closed), so focus returns to the button.
  const [scheduling, setScheduling] = useState<boolean | null>(null);
  const running = RUNNING_CLIP_STATUSES.has(clip.status);
  const percent = clip.progress?.percent ?? null;

  // Milestones only as they change (not the state the list was loaded with).
  const milestone = clipMilestone(clip);
  const said = useRef(milestone);
  useEffect(() => {
    if (said.current === milestone) return;
    said.current = milestone;
    announce(milestone);
  }, [milestone, announce]);

  const id = clip.id;
  const load = useCallback(async (signal?: AbortSignal) => {
    const { data } = await api.get<ClipResponse>(`/clips/${encodeURIComponent(id)}`, { signal });
    if (!data.clip.playback_url) throw new Error("This clip cannot be played yet.");
    return data.clip.playback_url;
  }, [id]);

  const tone = clip.status === "ready" ? "text-success" : clip.status === "failed" ? "text-danger" : running ? "text-ink" : "text-muted";
  const facts = [rangeWords(clip), ASPECT_WORDS[clip.aspect]];
  if (clip.size_bytes !== null && clip.status === "ready") facts.push(formatBytes(clip.size_bytes));

  return (
    <li aria-labelledby={titleId} className="flex flex-col gap-2 rounded-lg border border-line bg-canvas/40 p-3">
      <div className="flex min-w-0 flex-wrap items-baseline justify-between gap-x-3 gap-y-1">
        <p id={titleId} className="min-w-0 truncate font-medium text-ink" title={clip.title}>
          {clip.title}
        </p>
        <p className="text-xs text-muted tabular-nums">{facts.join(" · ")}</p>
      </div>
      <p className={cx("text-sm", tone)} title={clip.status === "failed" ? (clip.error ?? undefined) : undefined}>
        {clipStatusWords(clip)}
        {reconnecting && <span className="text-muted"> · reconnecting…</span>}
      </p>
      {running && (
        <ProgressBar
          label={`Clip progress of ${clip.title}`}
          value={clip.status === "processing" ? percent : null}
          valueText={clip.status === "queued" ? "Queued" : percent !== null ? formatPercent(percent) : "Making the clip"}
        />
      )}
      {playing && clip.status === "ready" && (
        <MediaPlayer
          load={load}
          label={`Clip ${clip.title}`}
          boxClassName={clip.aspect === "9:16" ? "mx-auto aspect-[9/16] w-full max-w-56 rounded-lg" : "aspect-video w-full rounded-lg"}
        />
      )}
      <div className="flex flex-wrap gap-2">
        {clip.status === "ready" && (
          <Button
            size="sm"
            variant={playing ? "secondary" : "primary"}
            aria-pressed={playing}
            aria-label={`Play clip ${clip.title}`}
            onClick={() => setPlaying((p) => !p)}
          >
            Play
          </Button>
        )}
        {clip.status === "ready" && (
          <Button size="sm" variant="secondary" aria-describedby={titleId} onClick={() => setScheduling(true)}>
            Schedule post
          </Button>
        )}
        <Button size="sm" variant="ghost" className="ml-auto" aria-label={`Delete clip ${clip.title}`} onClick={() => onDelete(clip)}>
          Delete
        </Button>
      </div>
      {scheduling !== null && (
        <SchedulePostDialog
          open={scheduling}
          onClose={() => setScheduling(false)}
          target={{ kind: "clip", id: clip.id, title: clip.title, vertical: clip.aspect === "9:16" }}
        />
      )}
    </li>
  );
}
