import { act, cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Video } from "@/lib/api/types";
import { configureUploads, useUploadStore } from "@/lib/store/uploadStore";
import type { ResumeStore } from "@/lib/upload/resume";
import type { UploadApi } from "@/lib/upload/session";
import { startBlobServer, type TestBlobServer } from "@/lib/upload/testBlobServer";
import { UploadQueue } from "./UploadQueue";

const BLOCK = 1024;
let server: TestBlobServer;

const memory = new Map<string, string>();
const resume: ResumeStore = { get: (k) => memory.get(k) ?? null, set: (k, v) => void memory.set(k, v), delete: (k) => void memory.delete(k) };

function ready(id: string): Video {
  return {
    id,
    title: "clip.mp4",
    source: "upload",
    source_url: null,
    status: "ready",
    error: null,
    content_type: "video/mp4",
    size_bytes: 3 * BLOCK,
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

beforeEach(async () => {
  server = await startBlobServer();
  server.allow("s");
  const api: UploadApi = {
    create: async () => ({ video_id: "v1", upload_url: server.sasUrl("s"), expires_at: new Date(Date.now() + 900_000).toISOString(), block_size_bytes: BLOCK }),
    staged: async () => null,
    renew: async () => ({ video_id: "v1", upload_url: server.sasUrl("s"), expires_at: new Date(Date.now() + 900_000).toISOString(), block_size_bytes: BLOCK }),
    complete: async (id) => ready(id),
  };
  configureUploads({ api, resume, deleteVideo: vi.fn(async () => undefined) });
  useUploadStore.setState({ items: [], announcement: "" });
});
afterEach(async () => {
  cleanup();
  for (const i of useUploadStore.getState().items) useUploadStore.getState().cancel(i.id);
  await server.close();
});

function pick(files: File[]) {
  const input = screen.getByLabelText("Choose video files");
  fireEvent.change(input, { target: { files } });
}

describe("UploadQueue", () => {
  it("uploads a chosen file: progress bar, bytes, then Uploaded with a link to the library", async () => {
    render(<UploadQueue />);
    const input = screen.getByLabelText<HTMLInputElement>("Choose video files");
    expect(input.type).toBe("file");
    expect(input.multiple).toBe(true);
    await act(async () => pick([new File([new Uint8Array(3 * BLOCK)], "clip.mp4", { type: "video/mp4" })]));
    const row = screen.getByRole("listitem");
    expect(within(row).getByRole("progressbar", { name: "Upload of clip.mp4" })).toBeTruthy();
    expect(await within(row).findByText("Uploaded")).toBeTruthy();
    expect(within(row).getByText("3.07 KB of 3.07 KB")).toBeTruthy();
    expect(within(row).getByRole("link", { name: "Open in library" }).getAttribute("href")).toMatch(/^\/library\/?\?video=v1$/);
    expect(within(row).getByRole("progressbar").getAttribute("aria-valuenow")).toBe("100");
  });

  it("cancels a running upload from its button", async () => {
    server.holdBlocks();
    render(<UploadQueue />);
    await act(async () => pick([new File([new Uint8Array(2 * BLOCK)], "long.mp4", { type: "video/mp4" })]));
    await act(() => server.waitForHeld(2));
    await act(async () => screen.getByRole("button", { name: "Cancel upload of long.mp4" }).click());
    expect(await screen.findByText("Cancelled")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Retry upload of long.mp4" })).toBeTruthy();
  });

  it("says at once why a file cannot be uploaded", async () => {
    render(<UploadQueue />);
    await act(async () => pick([new File(["hello"], "notes.txt", { type: "text/plain" })]));
    expect(screen.getByRole("alert").textContent).toMatch(/not a video format/);
  });
});
