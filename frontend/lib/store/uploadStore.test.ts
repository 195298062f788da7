import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Upload, Video } from "@/lib/api/types";
import { blockId } from "@/lib/upload/blocks";
import { fingerprint, type ResumeStore } from "@/lib/upload/resume";
import type { StagedUpload, UploadApi } from "@/lib/upload/session";
import { startBlobServer, type TestBlobServer } from "@/lib/upload/testBlobServer";
import { useAuthStore } from "./authStore";
import { configureUploads, hasActiveUploads, useUploadStore, type UploadItem } from "./uploadStore";

const BLOCK = 1024;

function video(id: string, size: number): Video {
  return {
    id,
    title: "clip.mp4",
    source: "upload",
    source_url: null,
    status: "ready",
    error: null,
    content_type: "video/mp4",
    size_bytes: size,
    duration_seconds: null,
    width: null,
    height: null,
    created_at: "2026-11-30T07:00:00Z",
    processing_status: null,
    processing_error: null,
    frame_rate: null,
    video_codec: null,
    audio_codec: null,
    bit_rate: null,
  };
}

function memoryResume(): ResumeStore & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return { map, get: (fp) => map.get(fp) ?? null, set: (fp, id) => void map.set(fp, id), delete: (fp) => void map.delete(fp) };
}

function mp4(name: string, size: number, lastModified = 1_700_000_000_000): File {
  return new File([new Uint8Array(size).fill(7)], name, { type: "video/mp4", lastModified });
}

/** Resolves when the entry satisfies `pred`: driven by the store's own updates, no polling. */
function waitForItem(id: string, pred: (i: UploadItem) => boolean): Promise<UploadItem> {
  return new Promise((resolve) => {
    let done = false;
    const check = () => {
      const item = useUploadStore.getState().items.find((i) => i.id === id);
      if (!done && item && pred(item)) {
        done = true;
        queueMicrotask(() => unsubscribe());
        resolve(item);
      }
    };
    const unsubscribe = useUploadStore.subscribe(check);
    check();
  });
}

let server: TestBlobServer;
let resume: ReturnType<typeof memoryResume>;
let api: { [K in keyof UploadApi]: ReturnType<typeof vi.fn<UploadApi[K]>> };
let deleteVideo: ReturnType<typeof vi.fn<(id: string) => Promise<void>>>;
let created = 0;

const upload = (videoId: string, sig = "s1"): Upload => ({
  video_id: videoId,
  upload_url: server.sasUrl(sig),
  expires_at: new Date(Date.now() + 15 * 60_000).toISOString(),
  block_size_bytes: BLOCK,
});

beforeEach(async () => {
  server = await startBlobServer();
  server.allow("s1");
  resume = memoryResume();
  created = 0;
  api = {
    create: vi.fn<UploadApi["create"]>(async (body) => {
      created++;
      expect(body.content_type).toBe("video/mp4");
      return upload(`v${created}`);
    }),
    staged: vi.fn<UploadApi["staged"]>(async () => null),
    renew: vi.fn<UploadApi["renew"]>(async (id) => upload(id)),
    complete: vi.fn<UploadApi["complete"]>(async (id) => video(id, 0)),
  };
  deleteVideo = vi.fn(async () => undefined);
  configureUploads({ api, resume, deleteVideo, options: { retryDelay: () => 1 } });
  useUploadStore.setState({ items: [], announcement: "" });
});

afterEach(async () => {
  for (const i of useUploadStore.getState().items) useUploadStore.getState().cancel(i.id);
  await server.close();
});

describe("uploadStore", () => {
  it("uploads several files to the end, with progress, and forgets their resume entries", async () => {
    const a = mp4("a.mp4", 3 * BLOCK + 10);
    const b = mp4("b.mp4", BLOCK);
    const [ia, ib] = useUploadStore.getState().addFiles([a, b]);
    expect(hasActiveUploads()).toBe(true);
    const [da, db] = await Promise.all([
      waitForItem(ia!, (i) => i.status === "done"),
      waitForItem(ib!, (i) => i.status === "done"),
    ]);
    expect(da).toMatchObject({ name: "a.mp4", sentBytes: a.size, size: a.size, error: null });
    expect(db.sentBytes).toBe(b.size);
    expect([da.videoId, db.videoId].sort()).toEqual(["v1", "v2"]);
    expect(api.complete).toHaveBeenCalledTimes(2);
    expect(resume.map.size).toBe(0);
    expect(hasActiveUploads()).toBe(false);
    expect(useUploadStore.getState().announcement).toMatch(/uploaded\.$/);
  });

  it("refuses files it cannot store, in words, without calling the API", () => {
    const [empty, text] = useUploadStore
      .getState()
      .addFiles([new File([], "empty.mp4", { type: "video/mp4" }), new File(["x"], "notes.txt", { type: "text/plain" })]);
    const items = useUploadStore.getState().items;
    expect(items.find((i) => i.id === empty)).toMatchObject({ status: "failed", error: "This file is empty." });
    expect(items.find((i) => i.id === text)?.error).toMatch(/not a video format/);
    expect(api.create).not.toHaveBeenCalled();
  });

  it("cancels a running upload: requests aborted, the pending video deleted, the resume entry dropped", async () => {
    server.holdBlocks();
    const file = mp4("long.mp4", 8 * BLOCK);
    const [id] = useUploadStore.getState().addFiles([file]);
    await server.waitForHeld(4);
    expect(resume.map.get(fingerprint(file))).toBe("v1");
    useUploadStore.getState().cancel(id!);
    const item = await waitForItem(id!, (i) => i.status === "cancelled");
    expect(item.videoId).toBe("v1");
    await server.waitForClientAborts(4);
    expect(deleteVideo).toHaveBeenCalledWith("v1");
    expect(resume.map.size).toBe(0);
    expect(api.complete).not.toHaveBeenCalled();
  });

  it("resumes a file chosen again after a reload: only the blocks not staged are sent", async () => {
    const file = mp4("again.mp4", 4 * BLOCK);
    resume.set(fingerprint(file), "v-old");
    // The earlier page staged blocks 0 and 1 (and block 2 with a wrong size, which must be sent again).
    server.staged.set(blockId(0), Buffer.alloc(BLOCK, 7));
    server.staged.set(blockId(1), Buffer.alloc(BLOCK, 7));
    const staged: StagedUpload = {
      video_id: "v-old",
      status: "pending_upload",
      title: "again.mp4",
      expires_at: "2026-11-30T07:15:00Z",
      size_bytes: file.size,
      content_type: "video/mp4",
      block_size_bytes: BLOCK,
      committed: false,
      staged_blocks: [
        { id: blockId(0), size_bytes: BLOCK },
        { id: blockId(1), size_bytes: BLOCK },
        { id: blockId(2), size_bytes: 10 },
      ],
    };
    api.staged.mockResolvedValueOnce(staged);
    const [id] = useUploadStore.getState().addFiles([file]);
    const item = await waitForItem(id!, (i) => i.status === "done");
    expect(api.create).not.toHaveBeenCalled();
    expect(api.renew).toHaveBeenCalledWith("v-old");
    expect(item).toMatchObject({ videoId: "v-old", resumedBytes: 2 * BLOCK, sentBytes: file.size });
    const sent = server.requests.filter((r) => r.comp === "block").map((r) => r.blockId);
    expect(sent.sort()).toEqual([blockId(2), blockId(3)].sort());
    expect(server.committed?.body.length).toBe(file.size);
    expect(resume.map.size).toBe(0);
  });

  it("only completes a resumed upload whose block list was already committed", async () => {
    const file = mp4("committed.mp4", 2 * BLOCK);
    resume.set(fingerprint(file), "v-c");
    api.staged.mockResolvedValueOnce({
      video_id: "v-c",
      status: "pending_upload",
      title: "committed.mp4",
      size_bytes: file.size,
      content_type: "video/mp4",
      block_size_bytes: BLOCK,
      expires_at: "2026-11-30T07:15:00Z",
      committed: true,
      staged_blocks: [],
    });
    const [id] = useUploadStore.getState().addFiles([file]);
    const item = await waitForItem(id!, (i) => i.status === "done");
    expect(item.sentBytes).toBe(file.size);
    expect(api.complete).toHaveBeenCalledWith("v-c");
    expect(api.renew).not.toHaveBeenCalled();
    expect(server.requests).toHaveLength(0);
  });

  it("starts fresh when the remembered upload is gone (404/409), replacing the stale entry", async () => {
    const file = mp4("stale.mp4", 2 * BLOCK);
    resume.set(fingerprint(file), "v-gone");
    server.holdBlocks();
    const [id] = useUploadStore.getState().addFiles([file]);
    await server.waitForHeld(2);
    expect(api.staged).toHaveBeenCalledWith("v-gone");
    expect(resume.map.get(fingerprint(file))).toBe("v1");
    server.releaseAll();
    await waitForItem(id!, (i) => i.status === "done");
    expect(api.create).toHaveBeenCalledTimes(1);
  });

  it("says why an upload failed, and Retry continues it", async () => {
    const file = mp4("broken.mp4", 2 * BLOCK);
    server.failBlockOnce(blockId(1), 400);
    const [id] = useUploadStore.getState().addFiles([file]);
    const failed = await waitForItem(id!, (i) => i.status === "failed");
    expect(failed.error).toBe("Storage refused the upload (400 InvalidInput).");
    expect(resume.map.get(fingerprint(file))).toBe("v1"); // kept, so Retry resumes
    api.staged.mockResolvedValueOnce({
      video_id: "v1",
      status: "pending_upload",
      title: "broken.mp4",
      expires_at: "2026-11-30T07:15:00Z",
      size_bytes: file.size,
      content_type: "video/mp4",
      block_size_bytes: BLOCK,
      committed: false,
      staged_blocks: [{ id: blockId(0), size_bytes: BLOCK }],
    });
    useUploadStore.getState().retry(id!);
    const done = await waitForItem(id!, (i) => i.status === "done");
    expect(done.resumedBytes).toBe(BLOCK);
    expect(api.create).toHaveBeenCalledTimes(1);
  });

  it("removes the video when the upload is cancelled while the API is still creating it", async () => {
    let answer: (u: Upload) => void = () => undefined;
    api.create.mockImplementationOnce(() => new Promise<Upload>((resolve) => (answer = resolve)));
    const [id] = useUploadStore.getState().addFiles([mp4("early.mp4", BLOCK)]);
    await vi.waitFor(() => expect(api.create).toHaveBeenCalled());
    useUploadStore.getState().cancel(id!);
    answer(upload("v-early"));
    await waitForItem(id!, (i) => i.status === "cancelled");
    await vi.waitFor(() => expect(deleteVideo).toHaveBeenCalledWith("v-early"));
    expect(server.requests).toHaveLength(0);
    expect(resume.map.size).toBe(0);
  });

  it("does not upload the same file twice at once", async () => {
    server.holdBlocks();
    const file = mp4("twice.mp4", BLOCK);
    const first = useUploadStore.getState().addFiles([file]);
    const second = useUploadStore.getState().addFiles([file]);
    expect(first).toHaveLength(1);
    expect(second).toEqual([]);
    expect(useUploadStore.getState().announcement).toBe("twice.mp4 is already uploading.");
    await server.waitForHeld(1);
    server.releaseAll();
    await waitForItem(first[0]!, (i) => i.status === "done");
    expect(api.create).toHaveBeenCalledTimes(1);
  });

  it("stops and forgets this tab's uploads on sign-out, keeping them resumable", async () => {
    useAuthStore.getState().setSession({
      access_token: "t",
      token_type: "Bearer",
      expires_in: 900,
      user: { id: "u-1", email: "ada@example.com", name: "Ada", email_verified: true, created_at: "2026-11-30T06:00:00Z" },
    });
    server.holdBlocks();
    const file = mp4("mine.mp4", 2 * BLOCK);
    useUploadStore.getState().addFiles([file]);
    await server.waitForHeld(2);
    useAuthStore.getState().signOutLocal();
    expect(useUploadStore.getState().items).toEqual([]);
    expect(hasActiveUploads()).toBe(false);
    await server.waitForClientAborts(2);
    expect(deleteVideo).not.toHaveBeenCalled();
    expect(resume.map.get(fingerprint(file))).toBe("v1");
    expect(useUploadStore.getState().announcement).toBe("");
  });

  it("warns before the tab closes while an upload runs, not after", async () => {
    server.holdBlocks();
    const [id] = useUploadStore.getState().addFiles([mp4("w.mp4", BLOCK)]);
    await server.waitForHeld(1);
    const during = new Event("beforeunload", { cancelable: true });
    window.dispatchEvent(during);
    expect(during.defaultPrevented).toBe(true);
    server.releaseAll();
    await waitForItem(id!, (i) => i.status === "done");
    const after = new Event("beforeunload", { cancelable: true });
    window.dispatchEvent(after);
    expect(after.defaultPrevented).toBe(false);
  });
});
