import type { ImportProgress } from "@/lib/api/types";

const STEP_WORDS: Record<string, string> = {
  queued: "Waiting in the queue",
  starting: "Starting",
  downloading: "Downloading",
  processing: "Processing",
  finalizing: "Finalizing",
  retrying: "Retrying",
  done: "Done",
  ready: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};

/** The worker's step ("downloading", "finalizing"...) in words. */
export function stepWords(step: string | null | undefined): string {
  if (!step) return "Waiting in the queue";
  return STEP_WORDS[step] ?? step.charAt(0).toUpperCase() + step.slice(1).replaceAll("_", " ");
}

/**
 * What the polite live region says: it changes only at milestones (a new step, each quarter, the end),
 * so a screen reader hears the import move without a word per poll.
 */
export function importMilestone(p: Pick<ImportProgress, "status" | "step" | "percent"> | null): string {
  if (!p) return "";
  switch (p.status) {
    case "ready":
      return "Import finished.";
    case "failed":
      return "Import failed.";
    case "cancelled":
      return "Import cancelled.";
  }
  const quarter = p.percent === null ? null : Math.floor(Math.min(100, Math.max(0, p.percent)) / 25) * 25;
  return `Import: ${stepWords(p.step)}${quarter !== null ? `, ${quarter} %` : ""}.`;
}
