"use client";

import Link from "next/link";
import { Alert, Button, ProgressBar, buttonClasses } from "@/components/ui";
import { formatBytes, formatEta, formatPercent, formatSpeed } from "@/lib/format";
import type { VideoImport } from "@/hooks/useVideoImport";
import { importMilestone, stepWords } from "./importWords";

/** Live progress of one import: bar, numbers, step, cancel, and how it ended. */
export function ImportProgressPanel({ imp }: { imp: VideoImport }) {
  const p = imp.progress;
  const percent = p?.status === "ready" ? 100 : (p?.percent ?? null);
  const bytes =
    p && p.total_bytes !== null ? `${formatBytes(p.bytes_uploaded)} of ${formatBytes(p.total_bytes)}` : formatBytes(p?.bytes_uploaded ?? 0);
  const running = imp.phase === "running";
  const tone = imp.phase === "ready" ? "success" : imp.phase === "failed" ? "danger" : imp.phase === "cancelled" ? "warning" : "accent";

  return (
    <section aria-labelledby="import-progress-heading" className="flex flex-col gap-4 rounded-[var(--radius-card)] border border-line bg-surface p-4 sm:p-5">
      <div className="flex items-center justify-between gap-3">
        <h2 id="import-progress-heading" className="text-lg font-semibold">
          {imp.phase === "ready" ? "Imported" : imp.phase === "failed" ? "Import failed" : imp.phase === "cancelled" ? "Import cancelled" : "Importing"}
        </h2>
        {running && (
          <Button variant="secondary" size="sm" onClick={() => void imp.cancel()} loading={imp.cancelling}>
            Cancel import
          </Button>
        )}
      </div>

      <ProgressBar
        label="Import progress"
        value={running || imp.phase === "ready" ? percent : (percent ?? 0)}
        valueText={percent !== null ? `${formatPercent(percent)}, ${bytes}` : `${bytes}, size not known yet`}
        tone={tone}
      />

      <dl className="grid grid-cols-2 gap-x-4 gap-y-2 text-sm tabular-nums sm:grid-cols-5">
        <Stat label="Progress" value={formatPercent(percent)} />
        <Stat label="Received" value={bytes} />
        <Stat label="Speed" value={running && p ? formatSpeed(p.speed_bps) : "—"} />
        <Stat label="Time left" value={running && p ? formatEta(p.eta_seconds) : "—"} />
        <Stat label="Step" value={stepWords(p?.step ?? (imp.phase === "cancelled" ? "cancelled" : null))} />
      </dl>

      {imp.reconnecting && running && <p className="text-sm text-warning">Connection lost. Still trying…</p>}

      <p aria-live="polite" className="sr-only">
        {importMilestone(p)}
      </p>

      {imp.phase === "failed" && imp.error && (
        <Alert tone="error" title="The import failed">
          {imp.error}
        </Alert>
      )}
      {imp.phase !== "failed" && imp.error && <Alert tone="error">{imp.error}</Alert>}
      {imp.phase === "ready" && imp.videoId && (
        <div>
          <Link href={{ pathname: "/library/", query: { video: imp.videoId } }} className={buttonClasses({ variant: "primary", size: "sm" })}>
            Open in library
          </Link>
        </div>
      )}
    </section>
  );
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs text-muted">{label}</dt>
      <dd className="truncate text-ink">{value}</dd>
    </div>
  );
}
