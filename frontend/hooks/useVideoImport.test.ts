import { act, cleanup, renderHook } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ImportProgress } from "@/lib/api/types";
import type { ApiError } from "@/lib/axios";

const get = vi.fn();
const post = vi.fn();
vi.mock("@/lib/axios", async (importOriginal) => {
  const real = await importOriginal<typeof import("@/lib/axios")>();
  return { ...real, api: { get, post } };
});

const { useVideoImport } = await import("./useVideoImport");
const { pauseFollowing } = await import("@/lib/following");

const ID = "0b6f3c1e-8a53-4f0e-9d8e-1f7a9e2c4b10";

function progress(over: Partial<ImportProgress> = {}): ImportProgress {
  return {
    video_id: ID,
    status: "downloading",
    step: "downloading",
    percent: 10,
    bytes_uploaded: 1000,
    total_bytes: 10_000,
    speed_bps: 500,
    eta_seconds: 18,
    error: null,
    updated_at: "2026-11-30T07:00:00Z",
    ...over,
  };
}

function apiError(status: number, code: string, fields: Record<string, string> = {}): ApiError {
  return { status, code, message: code, fields, retryAfterSeconds: null };
}

/** Answers successive polls with these progress values, the last one forever. */
function answers(...list: ImportProgress[]) {
  let i = 0;
  get.mockImplementation(async () => ({ data: list[Math.min(i++, list.length - 1)] }));
}

beforeEach(() => {
  vi.useFakeTimers();
  get.mockReset();
  post.mockReset();
});
afterEach(() => {
  cleanup(); // no hook of an earlier test may go on polling
  vi.useRealTimers();
});

describe("useVideoImport", () => {
  it("starts an import and polls with backoff: 1 s, growing to 5 s while nothing moves, back to 1 s when it does", async () => {
    post.mockResolvedValueOnce({ data: { video_id: ID, status: "queued" } });
    const same = progress();
    const moved = progress({ percent: 50, bytes_uploaded: 5000 });
    answers(same, same, same, same, same, moved, moved);
    const { result } = renderHook(() => useVideoImport());

    await act(() => result.current.start("  https://example.com/v.mp4 "));
    expect(post).toHaveBeenCalledWith("/imports", { url: "https://example.com/v.mp4" });
    expect(result.current.videoId).toBe(ID);
    expect(get).toHaveBeenCalledTimes(1); // first poll at once
    expect(result.current.progress?.percent).toBe(10);

    // Nothing moves: 1 s (first answer is a change), then 1.5 s, 2.25 s, 3.375 s, 5 s (capped).
    const steps = [1000, 1500, 2250, 3375, 5000];
    for (const [n, ms] of steps.entries()) {
      await act(() => vi.advanceTimersByTimeAsync(ms - 1));
      expect(get).toHaveBeenCalledTimes(n + 1);
      await act(() => vi.advanceTimersByTimeAsync(1));
      expect(get).toHaveBeenCalledTimes(n + 2);
    }
    // The 6th poll answers "moved": the next poll comes 1 s later again.
    expect(result.current.progress?.percent).toBe(50);
    await act(() => vi.advanceTimersByTimeAsync(999));
    expect(get).toHaveBeenCalledTimes(6);
    await act(() => vi.advanceTimersByTimeAsync(1));
    expect(get).toHaveBeenCalledTimes(7);
  });

  it("stops polling at a terminal state and says why it failed", async () => {
    answers(progress(), progress({ status: "failed", step: "failed", percent: null, error: "the server answered 404" }));
    const onSettled = vi.fn();
    const { result } = renderHook(() => useVideoImport(ID, { onSettled }));
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(result.current.phase).toBe("running");
    await act(() => vi.advanceTimersByTimeAsync(1000));
    expect(result.current.phase).toBe("failed");
    expect(result.current.error).toBe("The server answered 404.");
    expect(onSettled).toHaveBeenCalledTimes(1);
    await act(() => vi.advanceTimersByTimeAsync(60_000));
    expect(get).toHaveBeenCalledTimes(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("follows an existing import to ready", async () => {
    answers(progress({ status: "processing", step: "finalizing", percent: 100 }), progress({ status: "ready", step: "done", percent: 100 }));
    const { result } = renderHook(() => useVideoImport(ID));
    await act(() => vi.advanceTimersByTimeAsync(1000));
    expect(result.current.phase).toBe("ready");
    expect(result.current.error).toBeNull();
    expect(get).toHaveBeenCalledWith(`/imports/${ID}`, expect.objectContaining({ signal: expect.any(AbortSignal) }));
  });

  it("stops polling when unmounted, and aborts the poll in flight", async () => {
    let signal: AbortSignal | undefined;
    get.mockImplementation(async (_url: string, config: { signal: AbortSignal }) => {
      signal = config.signal;
      return { data: progress() };
    });
    const { unmount } = renderHook(() => useVideoImport(ID));
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(get).toHaveBeenCalledTimes(1);
    unmount();
    expect(signal?.aborted).toBe(true);
    await act(() => vi.advanceTimersByTimeAsync(30_000));
    expect(get).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("cancels: POST cancel, phase cancelled, polling stopped", async () => {
    answers(progress());
    post.mockResolvedValueOnce({ data: { video_id: ID, status: "cancelled" } });
    const { result } = renderHook(() => useVideoImport(ID));
    await act(() => vi.advanceTimersByTimeAsync(0));
    await act(() => result.current.cancel());
    expect(post).toHaveBeenCalledWith(`/imports/${ID}/cancel`);
    expect(result.current.phase).toBe("cancelled");
    expect(result.current.progress?.status).toBe("cancelled");
    await act(() => vi.advanceTimersByTimeAsync(30_000));
    expect(get).toHaveBeenCalledTimes(1);
  });

  it("keeps trying (slower) when a poll gets no answer, and stops on 404", async () => {
    get.mockRejectedValueOnce(apiError(0, "network_error"));
    get.mockRejectedValueOnce(apiError(404, "not_found"));
    const { result } = renderHook(() => useVideoImport(ID));
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(result.current.reconnecting).toBe(true);
    await act(() => vi.advanceTimersByTimeAsync(1499));
    expect(get).toHaveBeenCalledTimes(1);
    await act(() => vi.advanceTimersByTimeAsync(1));
    expect(result.current.phase).toBe("failed");
    expect(result.current.error).toBe("This import no longer exists.");
  });

  // CI once saw the library log a 404: a poll in flight when the video was deleted was answered after
  // the delete. Deleting pauses the video's polls first, aborting the one in flight.
  it("a delete in progress stops the poll at once, aborting its request, and a failed one resumes it", async () => {
    const signals: AbortSignal[] = [];
    get.mockImplementation((_url: string, { signal }: { signal: AbortSignal }) => {
      signals.push(signal);
      return new Promise(() => {}); // the server has not answered yet
    });
    const { result } = renderHook(() => useVideoImport(ID));
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(get).toHaveBeenCalledTimes(1);

    let resume: () => void = () => {};
    act(() => {
      resume = pauseFollowing(ID);
      expect(signals[0]?.aborted).toBe(true); // before the DELETE could be sent
    });
    await act(() => vi.advanceTimersByTimeAsync(30_000));
    expect(get).toHaveBeenCalledTimes(1);
    expect(result.current.error).toBeNull();

    answers(progress());
    act(() => resume()); // the delete failed: follow it again
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(get).toHaveBeenCalledTimes(2);
    expect(result.current.progress?.percent).toBe(10);
  });

  it("puts a refused URL next to the field, and other refusals in words", async () => {
    post.mockRejectedValueOnce(apiError(422, "validation_failed", { url: "must be an http or https URL" }));
    const { result } = renderHook(() => useVideoImport());
    await act(() => result.current.start("ftp://x"));
    expect(result.current.phase).toBe("idle");
    expect(result.current.urlError).toBe("The URL must be an http or https URL.");
    post.mockRejectedValueOnce(apiError(409, "too_many_imports"));
    await act(() => result.current.start("https://example.com/a"));
    expect(result.current.urlError).toBeNull();
    expect(result.current.error).toBe("too_many_imports.");
    expect(get).not.toHaveBeenCalled();
  });
});
