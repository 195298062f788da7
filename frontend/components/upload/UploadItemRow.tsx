"use client";

import Link from "next/link";
import { Button, ProgressBar, buttonClasses, cx } from "@/components/ui";
import { formatBytes, formatEta, formatSpeed } from "@/lib/format";
import { useUploadStore, type UploadItem } from "@/lib/store/uploadStore";

const statusWords: Record<UploadItem["status"], string> = {
  queued: "Waiting",
  preparing: "Preparing",
  uploading: "Uploading",
  finishing: "Finishing",
  done: "Uploaded",
  failed: "Failed",
  cancelled: "Cancelled",
};

export function UploadItemRow({ item }: { item: UploadItem }) {
  const cancel = useUploadStore((s) => s.cancel);
  const retry = useUploadStore((s) => s.retry);
  const dismiss = useUploadStore((s) => s.dismiss);
  const active = item.status === "queued" || item.status === "preparing" || item.status === "uploading" || item.status === "finishing";
  const percent = item.size > 0 ? (item.sentBytes / item.size) * 100 : 0;
  const sizeText = `${formatBytes(item.sentBytes)} of ${formatBytes(item.size)}`;

  return (
    <li className="rounded-[var(--radius-card)] border border-line bg-surface p-4">
      <div className="flex items-start justify-between gap-3">
        <div className="min-w-0">
          <p className="truncate font-medium text-ink" title={item.name}>
            {item.name}
          </p>
          <p
            className={cx(
              "text-sm",
              item.status === "done" ? "text-success" : item.status === "failed" ? "text-danger" : "text-muted",
            )}
          >
            {statusWords[item.status]}
            {item.resumedBytes > 0 && active && ` · resumed, ${formatBytes(item.resumedBytes)} already sent`}
          </p>
        </div>
        <div className="flex shrink-0 gap-2">
          {active && (
            <Button variant="secondary" size="sm" onClick={() => cancel(item.id)} aria-label={`Cancel upload of ${item.name}`}>
              Cancel
            </Button>
          )}
          {(item.status === "failed" || item.status === "cancelled") && (
            <Button variant="secondary" size="sm" onClick={() => retry(item.id)} aria-label={`Retry upload of ${item.name}`}>
              Retry
            </Button>
          )}
          {!active && (
            <Button variant="ghost" size="sm" onClick={() => dismiss(item.id)} aria-label={`Remove ${item.name} from the list`}>
              Remove
            </Button>
          )}
        </div>
      </div>

      <ProgressBar
        className="mt-3"
        label={`Upload of ${item.name}`}
        value={item.status === "preparing" && item.sentBytes === 0 ? null : percent}
        valueText={`${Math.floor(percent)} %, ${sizeText}`}
        tone={item.status === "done" ? "success" : item.status === "failed" ? "danger" : "accent"}
      />

      <div className="mt-2 flex flex-wrap items-center gap-x-4 gap-y-1 text-sm tabular-nums text-muted">
        <span>{sizeText}</span>
        {active && (
          <>
            <span>
              <span className="sr-only">Speed: </span>
              {item.speedBps > 0 ? formatSpeed(item.speedBps) : "— /s"}
            </span>
            <span>
              {item.etaSeconds !== null ? `${formatEta(item.etaSeconds)} left` : "Estimating time left…"}
            </span>
          </>
        )}
        {item.status === "done" && item.videoId && (
          <Link
            href={{ pathname: "/library/", query: { video: item.videoId } }}
            className={buttonClasses({ variant: "ghost", size: "sm", className: "text-accent-strong" })}
          >
            Open in library
          </Link>
        )}
      </div>

      {item.status === "failed" && item.error && (
        <p role="alert" className="mt-2 text-sm text-danger">
          {item.error}
        </p>
      )}
    </li>
  );
}
