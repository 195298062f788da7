// One file's whole upload: create (or resume) the video, send the blocks, commit, complete.
// The HTTP API is passed in (UploadApi) so this runs the same against the real backend and in tests.

import type { components } from "@/lib/api/schema";
import { planBlocks, blocksToSend, type StagedBlock } from "./blocks";
import { transferBlocks, type TransferOptions, type UploadTarget } from "./uploader";
import { fingerprint, type ResumeStore } from "./resume";
import { UploadApiError } from "./errors";

export { UploadApiError } from "./errors";

type Upload = components["schemas"]["Upload"];
type Video = components["schemas"]["Video"];

/** GET /api/uploads/{video_id}: what a pending upload has staged (for resume). */
export type StagedUpload = components["schemas"]["UploadStatus"];

export interface UploadApi {
  create(body: { filename: string; content_type: string; size_bytes: number }): Promise<Upload>;
  /** null when the upload cannot continue (404 gone, 409 upload_closed). */
  staged(videoId: string): Promise<StagedUpload | null>;
  renew(videoId: string): Promise<Upload>;
  complete(videoId: string): Promise<Video>;
}

export type UploadPhase = "preparing" | "uploading" | "finishing";

export interface UploadFileOptions
  extends Pick<TransferOptions, "concurrency" | "maxAttempts" | "retryDelay" | "renewMarginMs" | "stallMs" | "now"> {
  file: File;
  contentType: string;
  api: UploadApi;
  resume: ResumeStore;
  signal?: AbortSignal;
  onPhase?: (phase: UploadPhase) => void;
  /** The video this file goes to, as soon as it is known; `resumed` when blocks were already staged. */
  onVideo?: (videoId: string, info: { resumed: boolean; alreadySent: number }) => void;
  onProgress?: (sentBytes: number) => void;
}

function toTarget(u: Upload): UploadTarget {
  const expiresAt = Date.parse(u.expires_at);
  return { url: u.upload_url, expiresAt: Number.isFinite(expiresAt) ? expiresAt : 0 };
}

interface Start {
  videoId: string;
  target: UploadTarget | null;
  blockSize: number;
  staged: StagedBlock[];
  committed: boolean;
}

async function resumeOrCreate(o: UploadFileOptions, fp: string): Promise<Start> {
  const { api, file, resume } = o;
  const known = resume.get(fp);
  if (known) {
    const state = await api.staged(known);
    const usable =
      state !== null &&
      state.status === "pending_upload" &&
      state.size_bytes === file.size &&
      Number.isSafeInteger(state.block_size_bytes) &&
      state.block_size_bytes > 0;
    if (usable) {
      return {
        videoId: known,
        target: null, // renewed below: a resume has no URL yet
        blockSize: state.block_size_bytes,
        staged: state.staged_blocks,
        committed: state.committed,
      };
    }
    resume.delete(fp); // stale: start fresh
  }
  const created = await api.create({ filename: file.name, content_type: o.contentType, size_bytes: file.size });
  resume.set(fp, created.video_id);
  return { videoId: created.video_id, target: toTarget(created), blockSize: created.block_size_bytes, staged: [], committed: false };
}

/** Uploads `file`; resolves with the completed video. Rejects with an AbortError when cancelled. */
export async function uploadFile(o: UploadFileOptions): Promise<Video> {
  const { api, file, resume, signal } = o;
  const fp = fingerprint(file);
  o.onPhase?.("preparing");
  const start = await resumeOrCreate(o, fp);
  const plan = planBlocks(file.size, start.blockSize);
  const toSend = start.committed ? [] : blocksToSend(plan, start.staged);
  const alreadySent = plan.reduce((n, b) => (toSend.includes(b) ? n : n + b.size), 0);
  // Before the cancel check: a cancel during createUpload must still learn the video to remove.
  o.onVideo?.(start.videoId, { resumed: alreadySent > 0 || start.committed, alreadySent });
  signal?.throwIfAborted();

  if (!start.committed) {
    const target = start.target ?? toTarget(await api.renew(start.videoId));
    signal?.throwIfAborted();
    o.onPhase?.("uploading");
    await transferBlocks({
      file,
      plan,
      toSend,
      contentType: o.contentType,
      target,
      renew: async () => toTarget(await api.renew(start.videoId)),
      signal,
      onProgress: o.onProgress,
      concurrency: o.concurrency,
      maxAttempts: o.maxAttempts,
      retryDelay: o.retryDelay,
      renewMarginMs: o.renewMarginMs,
      stallMs: o.stallMs,
      now: o.now,
    });
  } else {
    o.onProgress?.(file.size);
  }
  o.onPhase?.("finishing");
  signal?.throwIfAborted();
  try {
    const video = await api.complete(start.videoId);
    resume.delete(fp);
    return video;
  } catch (err) {
    // Refused for good (422 upload_rejected, 409 upload_closed): nothing left to resume.
    if (err instanceof UploadApiError && err.status >= 400 && err.status < 500 && err.status !== 429) resume.delete(fp);
    throw err;
  }
}
