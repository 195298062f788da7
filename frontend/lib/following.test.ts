import { act, renderHook } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { follow, pauseFollowing, useFollowingPaused } from "./following";

describe("following", () => {
  it("pausing an id stops its polls at once, and only its polls", () => {
    const a1 = vi.fn();
    const a2 = vi.fn();
    const b = vi.fn();
    follow("a", a1);
    follow("a", a2);
    follow("b", b);
    pauseFollowing("a");
    expect(a1).toHaveBeenCalledTimes(1);
    expect(a2).toHaveBeenCalledTimes(1);
    expect(b).not.toHaveBeenCalled();
  });

  it("a poll followed under its owner's id too is stopped by pausing either", () => {
    const stop = vi.fn();
    follow(["clip-1", "video-1"], stop);
    pauseFollowing("video-1");
    expect(stop).toHaveBeenCalledTimes(1);
    const { result } = renderHook(() => useFollowingPaused("clip-1", "video-1"));
    expect(result.current).toBe(true);
  });

  it("an unregistered poll is stopped by its cleanup and not again by a pause", () => {
    const stop = vi.fn();
    const cleanup = follow("c", stop);
    cleanup();
    expect(stop).toHaveBeenCalledTimes(1);
    pauseFollowing("c");
    expect(stop).toHaveBeenCalledTimes(1);
  });

  it("keeps new polls from starting until every pause is resumed", () => {
    const { result } = renderHook(() => useFollowingPaused("d"));
    expect(result.current).toBe(false);
    let first: () => void = () => {};
    let second: () => void = () => {};
    act(() => {
      first = pauseFollowing("d");
      second = pauseFollowing("d");
    });
    expect(result.current).toBe(true);
    act(() => first());
    act(() => first()); // resuming twice counts once
    expect(result.current).toBe(true);
    act(() => second());
    expect(result.current).toBe(false);
    expect(renderHook(() => useFollowingPaused(null)).result.current).toBe(false);
  });
});
