import type { Clip, ClipAspect } from "@/lib/api/types";
import { describeError, type ApiError } from "@/lib/axios";
import { formatDuration, formatPercent } from "@/lib/format";

export const ASPECT_WORDS: Record<ClipAspect, string> = { original: "Original", "9:16": "Vertical 9:16" };

/** A reason from the server as the end of a sentence. */
function sentence(reason: string | null | undefined, fallback: string): string {
  const r = reason?.trim();
  if (!r) return fallback;
  return /[.!?]$/.test(r) ? r : `${r}.`;
}

/** What a clip's status line says: "Queued", "Making the clip 42 %", "Ready", "Failed: …". */
export function clipStatusWords(c: Pick<Clip, "status" | "error" | "progress">): string {
  switch (c.status) {
    case "queued":
      return "Queued";
    case "processing": {
      const p = c.progress?.percent;
      return typeof p === "number" ? `Making the clip ${formatPercent(p)}` : "Making the clip";
    }
    case "ready":
      return "Ready";
    case "failed":
      return `Failed: ${sentence(c.error, "unknown reason.")}`;
    case "cancelled":
      return "Cancelled";
  }
}

/** The range in words: "0:02–0:04 (2 s)". */
export function rangeWords(c: Pick<Clip, "start_seconds" | "end_seconds">): string {
  const length = Math.round((c.end_seconds - c.start_seconds) * 10) / 10;
  return `${formatDuration(c.start_seconds)}–${formatDuration(c.end_seconds)} (${length} s)`;
}

/**
 * What the polite live region says about a clip: it changes only at milestones (queued, each
 * quarter, the end), so a screen reader hears the clip move without a word per poll.
 */
export function clipMilestone(c: Pick<Clip, "status" | "error" | "progress" | "title">): string {
  const name = `Clip “${c.title}”`;
  switch (c.status) {
    case "queued":
      return `${name} is queued.`;
    case "processing": {
      const p = c.progress?.percent;
      const quarter = typeof p === "number" ? Math.floor(Math.min(100, Math.max(0, p)) / 25) * 25 : null;
      return quarter !== null ? `${name}: ${quarter} % made.` : `${name} is being made.`;
    }
    case "ready":
      return `${name} is ready.`;
    case "failed":
      return `${name} failed: ${sentence(c.error, "unknown reason.")}`;
    case "cancelled":
      return `${name} was cancelled.`;
  }
}

/**
 * A field problem from the server as a sentence for under the field: "must be after start_seconds"
 * about the end → "The end must be after the start."; "the clip must be at most 180 seconds long"
 * → "The clip must be at most 180 seconds long."
 */
export function fieldProblem(problem: string | undefined, label: string): string | undefined {
  const p = problem?.trim().replaceAll("start_seconds", "the start").replaceAll("end_seconds", "the end");
  if (!p) return undefined;
  const text = /^(must|is|are|should|cannot|can't)\b/i.test(p) ? `${label} ${p}` : p.charAt(0).toUpperCase() + p.slice(1);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** Why a clip could not be created, in words, for the problems that are not about one field. */
export function createClipError(e: ApiError): string {
  switch (e.code) {
    case "too_many_clips":
      return "You already have as many clips being made as allowed. Wait until one of them is finished, then create this one.";
    case "video_not_ready":
      return "This video isn't ready for clips yet: it is still being processed. Try again in a moment.";
  }
  return describeError(e);
}
