"use client";

import Link from "next/link";
import { useEffect } from "react";
import { ProgressBar } from "@/components/ui";
import { useVideoImport } from "@/hooks/useVideoImport";
import type { Video } from "@/lib/api/types";
import { formatPercent } from "@/lib/format";
import { ACTIVE_STATUSES, useUploadStore } from "@/lib/store/uploadStore";
import { stepWords } from "@/components/import/importWords";

const IMPORTING: ReadonlySet<Video["status"]> = new Set(["queued", "downloading", "processing"]);

/** Status words for a video, with live progress for imports and this tab's uploads. */
export function VideoStatus({ video, onSettled }: { video: Video; onSettled: (id: string) => void }) {
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
      return (
        <>
          <Line tone="success">Ready</Line>
          <BarSlot />
        </>
      );
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
