import { act, cleanup, renderHook } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Clip } from "@/lib/api/types";
import type { ApiError } from "@/lib/axios";

const get = vi.fn();
vi.mock("@/lib/axios", async (importOriginal) => {
  const real = await importOriginal<typeof import("@/lib/axios")>();
  return { ...real, api: { get } };
});

const { useClipProgress } = await import("./useClipProgress");
const { pauseFollowing } = await import("@/lib/following");

const ID = "5c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5";

function clip(over: Partial<Clip> = {}): Clip {
  return {
    id: ID,
    video_id: "v1",
    title: "Intro",
    start_seconds: 2,
    end_seconds: 4,
    aspect: "original",
    status: "processing",
    error: null,
    duration_seconds: null,
    width: null,
    height: null,
    size_bytes: null,
    created_at: "2026-11-30T07:00:00Z",
    progress: { percent: 10, updated_at: "2026-11-30T07:00:01Z" },
    ...over,
  };
}

/** Answers successive polls with these clips, the last one forever. */
function answers(...list: Clip[]) {
  let i = 0;
  get.mockImplementation(async () => ({ data: { clip: list[Math.min(i++, list.length - 1)] } }));
}

beforeEach(() => {
  vi.useFakeTimers();
  get.mockReset();
});
afterEach(() => {
  cleanup(); // no hook of an earlier test may go on polling
  vi.useRealTimers();
});

describe("useClipProgress", () => {
  it("polls at once, then with backoff while nothing moves, and at 1 s again when it does", async () => {
    const same = clip();
    const moved = clip({ progress: { percent: 60, updated_at: "2026-11-30T07:00:09Z" } });
    answers(same, same, same, same, same, moved, moved);
    const { result } = renderHook(() => useClipProgress(clip({ status: "queued", progress: undefined })));
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(get).toHaveBeenCalledTimes(1);
    expect(get).toHaveBeenCalledWith(`/clips/${ID}`, expect.objectContaining({ signal: expect.any(AbortSignal) }));
    expect(result.current.clip.status).toBe("processing");

    for (const [n, ms] of [1000, 1500, 2250, 3375, 5000].entries()) {
      await act(() => vi.advanceTimersByTimeAsync(ms - 1));
      expect(get).toHaveBeenCalledTimes(n + 1);
      await act(() => vi.advanceTimersByTimeAsync(1));
      expect(get).toHaveBeenCalledTimes(n + 2);
    }
    expect(result.current.clip.progress?.percent).toBe(60);
    await act(() => vi.advanceTimersByTimeAsync(999));
    expect(get).toHaveBeenCalledTimes(6);
    await act(() => vi.advanceTimersByTimeAsync(1));
    expect(get).toHaveBeenCalledTimes(7);
  });

  it("stops at a terminal state and says so once", async () => {
    answers(clip(), clip({ status: "ready", progress: undefined, playback_url: "https://storage.example/c?sig=1" }));
    const onSettled = vi.fn();
    const { result } = renderHook(() => useClipProgress(clip(), { onSettled }));
    await act(() => vi.advanceTimersByTimeAsync(1000));
    expect(result.current.clip.status).toBe("ready");
    expect(onSettled).toHaveBeenCalledTimes(1);
    expect(onSettled.mock.calls[0]?.[0]).toMatchObject({ status: "ready" });
    await act(() => vi.advanceTimersByTimeAsync(60_000));
    expect(get).toHaveBeenCalledTimes(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("does not poll a clip that is already settled", async () => {
    renderHook(() => useClipProgress(clip({ status: "failed", error: "the cut is empty" })));
    await act(() => vi.advanceTimersByTimeAsync(10_000));
    expect(get).not.toHaveBeenCalled();
  });

  it("stops when unmounted, and aborts the poll in flight", async () => {
    let signal: AbortSignal | undefined;
    get.mockImplementation(async (_url: string, config: { signal: AbortSignal }) => {
      signal = config.signal;
      return { data: { clip: clip() } };
    });
    const { unmount } = renderHook(() => useClipProgress(clip()));
    await act(() => vi.advanceTimersByTimeAsync(0));
    unmount();
    expect(signal?.aborted).toBe(true);
    await act(() => vi.advanceTimersByTimeAsync(30_000));
    expect(get).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("deleting the clip's video stops the poll at once, aborting its request, until the delete fails", async () => {
    const signals: AbortSignal[] = [];
    get.mockImplementation((_url: string, { signal }: { signal: AbortSignal }) => {
      signals.push(signal);
      return new Promise(() => {}); // not answered yet
    });
    renderHook(() => useClipProgress(clip({ video_id: "v-deleted" })));
    await act(() => vi.advanceTimersByTimeAsync(0));
    let resume: () => void = () => {};
    act(() => {
      resume = pauseFollowing("v-deleted");
      expect(signals[0]?.aborted).toBe(true);
    });
    await act(() => vi.advanceTimersByTimeAsync(30_000));
    expect(get).toHaveBeenCalledTimes(1);
    act(() => resume());
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(get).toHaveBeenCalledTimes(2);
  });

  it("keeps trying (slower) without an answer, and stops when the clip is gone", async () => {
    const offline: ApiError = { status: 0, code: "network_error", message: "", fields: {}, retryAfterSeconds: null };
    const gone: ApiError = { status: 404, code: "not_found", message: "", fields: {}, retryAfterSeconds: null };
    get.mockRejectedValueOnce(offline).mockRejectedValueOnce(gone);
    const onGone = vi.fn();
    const { result } = renderHook(() => useClipProgress(clip(), { onGone }));
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(result.current.reconnecting).toBe(true);
    await act(() => vi.advanceTimersByTimeAsync(1499));
    expect(get).toHaveBeenCalledTimes(1);
    await act(() => vi.advanceTimersByTimeAsync(1));
    expect(onGone).toHaveBeenCalledWith(ID);
    await act(() => vi.advanceTimersByTimeAsync(30_000));
    expect(get).toHaveBeenCalledTimes(2);
  });
});
