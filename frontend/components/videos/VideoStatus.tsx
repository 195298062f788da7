"use client";

import Link from "next/link";
import { useEffect, useRef } from "react";
import { startPolling } from "@/hooks/poll";
import { follow, useFollowingPaused } from "@/lib/following";
import { ProgressBar } from "@/components/ui";
import { useVideoImport } from "@/hooks/useVideoImport";
import { api, toApiError } from "@/lib/axios";
import type { Video, VideoResponse } from "@/lib/api/types";
import { formatPercent } from "@/lib/format";
import { ACTIVE_STATUSES, useUploadStore } from "@/lib/store/uploadStore";
import { stepWords } from "@/components/import/importWords";

const IMPORTING: ReadonlySet<Video["status"]> = new Set(["queued", "downloading", "processing"]);

/** Status words for a video, with live progress for imports and this tab's uploads. */
export function VideoStatus({ video, onSettled }: { video: Video; onSettled: (id: string) => void }) {
  useProcessingWatch(video, onSettled);
  if (video.source === "url" && IMPORTING.has(video.status)) return <ImportStatus video={video} onSettled={onSettled} />;
  if (video.status === "pending_upload") return <UploadStatus video={video} onSettled={onSettled} />;
  return <StatusLine video={video} />;
}

function Line({ tone = "muted", children }: { tone?: "muted" | "success" | "danger" | "warning" | "ink"; children: React.ReactNode }) {
  const color = { muted: "text-muted", success: "text-success", danger: "text-danger", warning: "text-warning", ink: "text-ink" }[tone];
  return <p className={`truncate text-sm ${color}`}>{children}</p>;
}

/** Keeps the height of a progress bar, so cards do not jump when one appears. */
function BarSlot({ children }: { children?: React.ReactNode }) {
  return <div className="h-2">{children}</div>;
}

function StatusLine({ video }: { video: Video }) {
  switch (video.status) {
    case "ready":
      return <ReadyLine video={video} />;
    case "failed":
      return (
        <>
          <Line tone="danger">
            <span title={video.error ?? undefined}>Failed: {video.error ?? "unknown reason"}</span>
          </Line>
          <BarSlot />
        </>
      );
    case "cancelled":
      return (
        <>
          <Line>Cancelled</Line>
          <BarSlot />
        </>
      );
    case "processing":
      return (
        <>
          <Line>Processing</Line>
          <BarSlot>
            <ProgressBar label={`Processing of ${video.title}`} value={null} />
          </BarSlot>
        </>
      );
    default:
      return (
        <>
          <Line>{video.status === "queued" ? "Queued" : video.status === "downloading" ? "Importing" : "Uploading"}</Line>
          <BarSlot />
        </>
      );
  }
}

function ImportStatus({ video, onSettled }: { video: Video; onSettled: (id: string) => void }) {
  const imp = useVideoImport(video.id, { onSettled: () => onSettled(video.id) });
  const p = imp.progress;
  const percent = p?.percent ?? null;
  const text =
    p === null
      ? video.status === "queued"
        ? "Queued"
        : "Importing"
      : p.status === "queued"
        ? "Queued"
        : percent !== null
          ? `Importing ${formatPercent(percent)}`
          : `Importing · ${stepWords(p.step)}`;
  return (
    <>
      <Line tone="ink">{text}</Line>
      <BarSlot>
        <ProgressBar label={`Import of ${video.title}`} value={percent} valueText={percent !== null ? formatPercent(percent) : stepWords(p?.step)} />
      </BarSlot>
    </>
  );
}

function UploadStatus({ video, onSettled }: { video: Video; onSettled: (id: string) => void }) {
  const item = useUploadStore((s) => s.items.find((i) => i.videoId === video.id));
  const finished = item?.status === "done";
  useEffect(() => {
    if (finished) onSettled(video.id);
  }, [finished, onSettled, video.id]);

  if (!item || !ACTIVE_STATUSES.has(item.status)) {
    return (
      <>
        <Line tone="warning">
          {item?.status === "failed" ? (
            `Upload failed: ${item.error ?? ""}`
          ) : (
            <>
              Upload not finished:{" "}
              <Link href="/upload/" className="underline underline-offset-2 hover:text-ink">
                choose the file again
              </Link>{" "}
              to continue
            </>
          )}
        </Line>
        <BarSlot />
      </>
    );
  }
  const percent = item.size > 0 ? (item.sentBytes / item.size) * 100 : 0;
  return (
    <>
      <Line tone="ink">Uploading {formatPercent(percent)}</Line>
      <BarSlot>
        <ProgressBar label={`Upload of ${item.name}`} value={percent} />
      </BarSlot>
    </>
  );
}

const PROCESSING: ReadonlySet<string> = new Set(["pending", "processing"]);

/** The probe's reason as the end of a sentence: "not a video file" → "not a video file." */
function reasonWords(reason: string | null | undefined): string {
  const r = reason?.trim();
  if (!r) return "unknown reason.";
  return /[.!?]$/.test(r) ? r : `${r}.`;
}

/** A ready video plays at once; its probe (duration, poster) may still be running or have failed. */
function ReadyLine({ video }: { video: Video }) {
  const state = video.processing_status ?? null;
  if (state === "failed") {
    const text = `Couldn't read this video: ${reasonWords(video.processing_error)}`;
    return (
      <>
        <Line tone="warning">
          <span title={text}>{text}</span>
        </Line>
        <BarSlot />
      </>
    );
  }
  return (
    <>
      <Line tone="success">
        <span>Ready</span>
        {state !== null && PROCESSING.has(state) && (
          <>
            <span aria-hidden="true" className="text-muted">
              {" · "}
            </span>
            <span className="text-muted">Processing…</span>
          </>
        )}
      </Line>
      <BarSlot />
    </>
  );
}

/**
 * While a ready video's probe runs, asks for the video now and then (2 s growing to 15 s) and calls
 * onSettled once it is done or failed, so the card gets its poster and duration without a reload.
 */
export function useProcessingWatch(video: Video, onSettled: (id: string) => void) {
  const settled = useRef(onSettled);
  useEffect(() => {
    settled.current = onSettled;
  });
  const id = video.id;
  const paused = useFollowingPaused(id);
  const watching = video.status === "ready" && PROCESSING.has(video.processing_status ?? "") && !paused;
  useEffect(() => {
    if (!watching) return;
    const stop = startPolling<Video>(
      {
        fetch: async (signal) => (await api.get<VideoResponse>(`/videos/${encodeURIComponent(id)}`, { signal })).data.video,
        fingerprint: (v) => String(v.processing_status),
        onData: (v) => {
          if (PROCESSING.has(v.processing_status ?? "")) return false;
          settled.current(id);
          return true;
        },
        onError: (err) => toApiError(err).status === 404,
      },
      { minDelayMs: 2000, maxDelayMs: 15_000, factor: 1.6, immediate: false },
    );
    return follow(id, stop);
  }, [watching, id]);
}
