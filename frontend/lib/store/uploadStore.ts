// The upload queue: what the person sees about each file (state) and what they can do (actions).
// The uploads themselves run here at module level, outside React, so they go on while the person
// moves around the app; the wire (blocks, retries, renewals, resume) lives in lib/upload.
import { create } from "zustand";
import { BlobRequestError, UploadApiError, isAbortError } from "@/lib/upload/errors";
import { videoContentType } from "@/lib/upload/contentType";
import { fingerprint, localResumeStore, type ResumeStore } from "@/lib/upload/resume";
import type { UploadApi, UploadFileOptions } from "@/lib/upload/session";
import { createSpeedMeter, type SpeedMeter } from "@/lib/upload/speed";
import { formatBytes } from "@/lib/format";
import { useAuthStore } from "@/lib/store/authStore";

export type UploadItemStatus = "queued" | "preparing" | "uploading" | "finishing" | "done" | "failed" | "cancelled";

export interface UploadItem {
  /** Local id of this entry (not the video id). */
  id: string;
  name: string;
  size: number;
  status: UploadItemStatus;
  /** Bytes staged or in flight, blocks staged before a resume included. */
  sentBytes: number;
  /** Over the last few seconds; 0 while unknown. */
  speedBps: number;
  etaSeconds: number | null;
  /** Why it failed, in words. */
  error: string | null;
  videoId: string | null;
  /** Bytes already staged by an earlier page when this upload resumed; 0 for a fresh one. */
  resumedBytes: number;
}

interface UploadStore {
  items: UploadItem[];
  /** The last milestone worth announcing to screen readers (started, each quarter, done, failed). */
  announcement: string;
  /** Queues files (picked or dropped); returns their entry ids. */
  addFiles: (files: Iterable<File> | ArrayLike<File>) => string[];
  /** Stops an upload: aborts its requests and removes the unfinished video. */
  cancel: (id: string) => void;
  /** Starts a failed or cancelled upload again (continuing from its staged blocks where possible). */
  retry: (id: string) => void;
  /** Removes a finished, failed or cancelled entry from the list. */
  dismiss: (id: string) => void;
  clearFinished: () => void;
}

export const ACTIVE_STATUSES: ReadonlySet<UploadItemStatus> = new Set(["queued", "preparing", "uploading", "finishing"]);
/** Files uploading at once; each one has several blocks in flight already. */
export const MAX_ACTIVE_FILES = 2;
/** Store updates per file at most this often: progress events arrive far faster than anyone reads. */
const PROGRESS_INTERVAL_MS = 250;

export interface UploadDeps {
  /** The upload routes; the real ones (lib/upload/api) are loaded with the uploader when first needed. */
  api: UploadApi | null;
  deleteVideo: ((videoId: string) => Promise<void>) | null;
  resume: ResumeStore;
  now: () => number;
  options: Pick<UploadFileOptions, "concurrency" | "maxAttempts" | "retryDelay" | "renewMarginMs" | "stallMs">;
}

let deps: UploadDeps = { api: null, deleteVideo: null, resume: localResumeStore(), now: Date.now, options: {} };

/**
 * The uploader and the API adapter, loaded on the first upload: pages that only show the queue
 * (the library) do not carry the wire in their first-load JavaScript.
 */
async function loadWire() {
  const [{ uploadFile }, wire] = await Promise.all([import("@/lib/upload/session"), import("@/lib/upload/api")]);
  return { uploadFile, api: deps.api ?? wire.uploadApi, deleteVideo: deps.deleteVideo ?? wire.deleteVideo };
}

/** Tests: swap the API, storage and clock. */
export function configureUploads(next: Partial<UploadDeps>): void {
  deps = { ...deps, ...next };
}

interface Runtime {
  file: File;
  controller: AbortController | null;
  meter: SpeedMeter;
  lastEmit: number;
  lastQuarter: number;
  /** Stopped by a sign-out: keep the video and the resume entry, so the same person can continue later. */
  keep: boolean;
}
const runtimes = new Map<string, Runtime>();
let nextId = 1;

export const useUploadStore = create<UploadStore>()((set, get) => ({
  items: [],
  announcement: "",

  addFiles(files) {
    installUnloadGuard();
    const added: UploadItem[] = [];
    const running = new Set(
      get()
        .items.filter((i) => ACTIVE_STATUSES.has(i.status))
        .map((i) => runtimes.get(i.id))
        .filter((rt) => rt !== undefined)
        .map((rt) => fingerprint(rt.file)),
    );
    for (const file of Array.from(files)) {
      // The same file twice at once would write the same blob from two places.
      if (running.has(fingerprint(file))) {
        announce(`${file.name} is already uploading.`);
        continue;
      }
      running.add(fingerprint(file));
      const id = `u${nextId++}`;
      const problem = checkFile(file);
      runtimes.set(id, { file, controller: null, meter: createSpeedMeter(), lastEmit: 0, lastQuarter: 0, keep: false });
      added.push({
        id,
        name: file.name,
        size: file.size,
        status: problem ? "failed" : "queued",
        sentBytes: 0,
        speedBps: 0,
        etaSeconds: null,
        error: problem,
        videoId: null,
        resumedBytes: 0,
      });
    }
    set((s) => ({ items: [...s.items, ...added] }));
    pump();
    return added.map((i) => i.id);
  },

  cancel(id) {
    const item = get().items.find((i) => i.id === id);
    if (!item || !ACTIVE_STATUSES.has(item.status)) return;
    const rt = runtimes.get(id);
    if (item.status === "queued" || !rt?.controller) {
      patch(id, { status: "cancelled", speedBps: 0, etaSeconds: null });
      announce(`Upload of ${item.name} cancelled.`);
      return;
    }
    rt.controller.abort(); // run() sees the AbortError and cleans up
  },

  retry(id) {
    const item = get().items.find((i) => i.id === id);
    if (!item || (item.status !== "failed" && item.status !== "cancelled") || checkFile(runtimes.get(id)?.file)) return;
    patch(id, { status: "queued", error: null, speedBps: 0, etaSeconds: null });
    pump();
  },

  dismiss(id) {
    const item = get().items.find((i) => i.id === id);
    if (!item || ACTIVE_STATUSES.has(item.status)) return;
    runtimes.delete(id);
    set((s) => ({ items: s.items.filter((i) => i.id !== id) }));
  },

  clearFinished() {
    const keep = get().items.filter((i) => ACTIVE_STATUSES.has(i.status));
    for (const i of get().items) if (!ACTIVE_STATUSES.has(i.status)) runtimes.delete(i.id);
    set({ items: keep });
  },
}));

/** True while any upload of this tab is queued or running. */
export function hasActiveUploads(): boolean {
  return useUploadStore.getState().items.some((i) => ACTIVE_STATUSES.has(i.status));
}

function patch(id: string, change: Partial<UploadItem>): void {
  useUploadStore.setState((s) => ({ items: s.items.map((i) => (i.id === id ? { ...i, ...change } : i)) }));
}

function announce(text: string): void {
  useUploadStore.setState({ announcement: text });
}

function checkFile(file: File | undefined): string | null {
  if (!file) return "The file is no longer available. Choose it again.";
  if (file.size === 0) return "This file is empty.";
  if (!videoContentType(file)) return "This is not a video format we can store (MP4, MOV, M4V, 3GP, MKV, WebM or MPEG-TS).";
  return null;
}

/** Starts queued uploads while fewer than MAX_ACTIVE_FILES run. */
function pump(): void {
  const items = useUploadStore.getState().items;
  let running = items.filter((i) => i.status === "preparing" || i.status === "uploading" || i.status === "finishing").length;
  for (const item of items) {
    if (running >= MAX_ACTIVE_FILES) break;
    if (item.status !== "queued") continue;
    running++;
    void run(item.id);
  }
}

async function run(id: string): Promise<void> {
  const rt = runtimes.get(id);
  const item = useUploadStore.getState().items.find((i) => i.id === id);
  const contentType = rt ? videoContentType(rt.file) : null;
  if (!rt || !item || !contentType) return;
  const controller = new AbortController();
  rt.controller = controller;
  rt.meter.reset();
  rt.lastEmit = 0;
  patch(id, { status: "preparing", error: null, sentBytes: 0 });
  announce(`Upload of ${item.name} started.`);

  const onProgress = (sent: number) => {
    const now = deps.now();
    rt.meter.add(now, sent);
    if (now - rt.lastEmit < PROGRESS_INTERVAL_MS && sent < rt.file.size) return;
    rt.lastEmit = now;
    patch(id, { sentBytes: sent, speedBps: rt.meter.bytesPerSecond(), etaSeconds: rt.meter.etaSeconds(rt.file.size) });
    const quarter = Math.floor((sent / rt.file.size) * 4);
    if (quarter > rt.lastQuarter && quarter < 4) {
      rt.lastQuarter = quarter;
      announce(`Upload of ${item.name}: ${quarter * 25} %.`);
    }
  };

  let videoId: string | null = item.videoId;
  let removeVideo: ((videoId: string) => Promise<void>) | null = deps.deleteVideo;
  try {
    const wire = await loadWire();
    removeVideo = wire.deleteVideo;
    controller.signal.throwIfAborted();
    const video = await wire.uploadFile({
      ...deps.options,
      file: rt.file,
      contentType,
      api: wire.api,
      resume: deps.resume,
      signal: controller.signal,
      now: deps.now,
      onPhase: (phase) => patch(id, { status: phase }),
      onVideo: (vid, info) => {
        videoId = vid;
        patch(id, { videoId: vid, resumedBytes: info.alreadySent, sentBytes: info.alreadySent });
        if (info.resumed) announce(`Upload of ${item.name} resumed: ${formatBytes(info.alreadySent)} were already sent.`);
      },
      onProgress,
    });
    patch(id, { status: "done", sentBytes: rt.file.size, speedBps: 0, etaSeconds: 0, videoId: video.id });
    announce(`${item.name} uploaded.`);
  } catch (err) {
    if (rt.keep) {
      // stopped by a sign-out: the list is gone already, nothing to say or clean up
    } else if (controller.signal.aborted || isAbortError(err)) {
      patch(id, { status: "cancelled", speedBps: 0, etaSeconds: null });
      announce(`Upload of ${item.name} cancelled.`);
      // A cancelled upload leaves nothing behind: no pending video in the library, no resume entry.
      deps.resume.delete(fingerprint(rt.file));
      if (videoId && removeVideo) void removeVideo(videoId).catch(() => undefined);
    } else {
      const error = describeUploadError(err);
      patch(id, { status: "failed", speedBps: 0, etaSeconds: null, error });
      announce(`Upload of ${item.name} failed: ${error}`);
    }
  } finally {
    rt.controller = null;
    rt.lastQuarter = 0;
    pump();
  }
}

/** Any failure of an upload, as a sentence. */
export function describeUploadError(err: unknown): string {
  if (err instanceof UploadApiError) return err.message;
  if (err instanceof BlobRequestError) {
    if (err.status === 0) return "The connection to storage was lost. Check your connection and retry: the blocks already sent are kept.";
    if (err.authFailure) return "Storage refused the upload link, even a renewed one. Retry in a moment.";
    if (err.status === 413) return "Storage refused a block as too large.";
    if (err.retryable) return `Storage is having trouble (${err.status}). Retry in a moment: the blocks already sent are kept.`;
    return `Storage refused the upload (${err.status} ${err.code}).`;
  }
  if (err instanceof RangeError) return err.message.charAt(0).toUpperCase() + err.message.slice(1) + ".";
  return err instanceof Error && err.message ? err.message : "The upload failed.";
}

/**
 * Signing out, or another person signing in, in this tab stops its uploads and empties the list: the
 * next person must not see (or cancel) them. Staged blocks and resume entries stay, so choosing the
 * file again after signing back in continues the upload.
 */
function stopForSignOut(): void {
  for (const rt of runtimes.values()) {
    if (!rt.controller) continue;
    rt.keep = true;
    rt.controller.abort();
  }
  runtimes.clear();
  useUploadStore.setState({ items: [], announcement: "" });
}

useAuthStore.subscribe((now, before) => {
  const left = before.status === "authenticated" && (now.status !== "authenticated" || now.user?.id !== before.user?.id);
  if (left) stopForSignOut();
});

let guardInstalled = false;
/** Closing or reloading the tab mid-upload asks first (the browser shows its own words). */
function installUnloadGuard(): void {
  if (guardInstalled || typeof window === "undefined") return;
  guardInstalled = true;
  window.addEventListener("beforeunload", (e) => {
    if (!hasActiveUploads()) return;
    e.preventDefault();
    e.returnValue = ""; // older browsers need it set
  });
}
