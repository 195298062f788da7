// Clip shapes and the video's processing fields, written from the issue 11 contract (BRIEF11) while
// the backend's openapi.yaml does not describe them yet. Once it does, these become aliases of the
// generated schema in lib/api/types.ts and this file goes away: do not add anything else here.
import type { Video } from "./types";

export type ClipAspect = "original" | "9:16";
export type ClipStatus = "queued" | "processing" | "ready" | "failed" | "cancelled";

export interface Clip {
  id: string;
  video_id: string;
  title: string;
  start_seconds: number;
  end_seconds: number;
  aspect: ClipAspect;
  status: ClipStatus;
  error: string | null;
  duration_seconds: number | null;
  width: number | null;
  height: number | null;
  size_bytes: number | null;
  created_at: string;
  /** Read URL of the clip's MP4, when ready (GET /api/clips/{id}). */
  playback_url?: string;
  /** Only while queued or processing. */
  progress?: { percent: number | null; updated_at: string };
}

/** POST /api/videos/{id}/clips and GET /api/clips/{id}. */
export interface ClipResponse {
  clip: Clip;
}
/** GET /api/videos/{id}/clips. */
export interface ClipList {
  items: Clip[];
}
export interface CreateClipRequest {
  title: string;
  start_seconds: number;
  end_seconds: number;
  aspect: ClipAspect;
}

export type ProcessingStatus = "pending" | "processing" | "done" | "failed";

/** A video with the fields the probe fills in (optional: older servers do not send them). */
export type ProcessedVideo = Video & {
  processing_status?: ProcessingStatus | null;
  processing_error?: string | null;
};
