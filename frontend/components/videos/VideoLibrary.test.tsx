import { act, cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ImportProgress, Video } from "@/lib/api/types";

const get = vi.fn();
const del = vi.fn();
vi.mock("@/lib/axios", async (importOriginal) => {
  const real = await importOriginal<typeof import("@/lib/axios")>();
  return { ...real, api: { get, delete: del, post: vi.fn() } };
});
vi.mock("next/navigation", () => ({ useSearchParams: () => new URLSearchParams("") }));

const { VideoLibrary } = await import("./VideoLibrary");

function video(id: string, over: Partial<Video> = {}): Video {
  return {
    id,
    title: `Video ${id}`,
    source: "upload",
    source_url: null,
    status: "ready",
    error: null,
    content_type: "video/mp4",
    size_bytes: 12_500_000,
    duration_seconds: 65,
    width: 1280,
    height: 720,
    created_at: "2026-11-30T07:00:00Z",
    processing_status: null,
    processing_error: null,
    frame_rate: null,
    video_codec: null,
    audio_codec: null,
    bit_rate: null,
    ...over,
  };
}

type Route = (url: string, config?: { params?: Record<string, unknown> }) => unknown;
function routes(r: Route) {
  get.mockImplementation(async (url: string, config?: { params?: Record<string, unknown> }) => ({ data: r(url, config) }));
}

// A click, as a person makes it, with React's updates flushed.
async function click(el: HTMLElement) {
  await act(async () => el.click());
}

beforeEach(() => {
  get.mockReset();
  del.mockReset();
});
afterEach(cleanup);

describe("VideoLibrary", () => {
  it("shows the empty state with ways to add videos", async () => {
    routes(() => ({ items: [], next_cursor: null }));
    render(<VideoLibrary />);
    expect(await screen.findByText("No videos yet")).toBeTruthy();
    expect(screen.getByRole("link", { name: "Upload videos" }).getAttribute("href")).toMatch(/^\/upload\/?$/);
    expect(screen.getByRole("link", { name: "Import from a link" }).getAttribute("href")).toMatch(/^\/import\/?$/);
  });

  it("lists videos as articles named by their title, and pages with Load more", async () => {
    routes((url, config) =>
      config?.params?.cursor === "c2"
        ? { items: [video("3")], next_cursor: null }
        : { items: [video("1"), video("2", { status: "failed", error: "not a video" })], next_cursor: "c2" },
    );
    render(<VideoLibrary />);
    const first = await screen.findByRole("article", { name: "Video 1" });
    expect(within(first).getByText("Ready")).toBeTruthy();
    expect(within(first).getByText("12.5 MB")).toBeTruthy();
    expect(within(screen.getByRole("article", { name: "Video 2" })).getByText("Failed: not a video")).toBeTruthy();

    await click(screen.getByRole("button", { name: "Load more" }));
    expect(await screen.findByRole("article", { name: "Video 3" })).toBeTruthy();
    expect(get).toHaveBeenLastCalledWith("/videos", { params: { limit: 24, cursor: "c2" } });
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
  });

  it("deletes a video after confirmation", async () => {
    routes(() => ({ items: [video("1"), video("2")], next_cursor: null }));
    del.mockResolvedValue({ data: "" });
    render(<VideoLibrary />);
    const card = await screen.findByRole("article", { name: "Video 1" });
    await click(within(card).getByRole("button", { name: "Delete" }));
    const dialog = screen.getByRole("dialog", { name: "Delete video?" });
    await click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(del).not.toHaveBeenCalled();

    await click(within(card).getByRole("button", { name: "Delete" }));
    await click(within(screen.getByRole("dialog", { name: "Delete video?" })).getByRole("button", { name: "Delete" }));
    expect(del).toHaveBeenCalledWith("/videos/1");
    expect(screen.queryByRole("article", { name: "Video 1" })).toBeNull();
    expect(screen.getByRole("article", { name: "Video 2" })).toBeTruthy();
  });

  it("plays a ready video from a fresh playback URL, and gets a new one once when it expires", async () => {
    let n = 0;
    routes((url) =>
      url === "/videos"
        ? { items: [video("1")], next_cursor: null }
        : url === "/videos/1/clips"
          ? { items: [] }
          : { video: { ...video("1"), playback_url: `https://storage.example/v1?sig=${++n}` } },
    );
    render(<VideoLibrary />);
    const card = await screen.findByRole("article", { name: "Video 1" });
    await click(within(card).getByRole("button", { name: "Play" }));
    const player = await within(card).findByLabelText<HTMLVideoElement>("Video 1");
    expect(player.tagName).toBe("VIDEO");
    expect(player.controls).toBe(true);
    expect(player.getAttribute("src")).toBe("https://storage.example/v1?sig=1");

    // Storage refuses the expired URL mid-way: a fresh one, and playback carries on at 42 s.
    const play = vi.fn(async () => undefined);
    player.play = play;
    player.currentTime = 42;
    await act(async () => {
      player.dispatchEvent(new Event("error"));
    });
    await vi.waitFor(() => expect(player.getAttribute("src")).toBe("https://storage.example/v1?sig=2"));
    player.currentTime = 0; // a new source starts at 0
    await act(async () => {
      player.dispatchEvent(new Event("loadedmetadata"));
    });
    expect(player.currentTime).toBe(42);
    expect(play).toHaveBeenCalled();
    await act(async () => {
      player.dispatchEvent(new Event("error"));
    });
    expect(await screen.findByRole("alert")).toBeTruthy();
    expect(n).toBe(2);
  });

  it("shows each video's poster and duration, and its processing state in words", async () => {
    routes(() => ({
      items: [
        video("1", { thumbnail_url: "https://storage.example/p1.jpg?sig=1", processing_status: "done" }),
        video("2", { duration_seconds: null, processing_status: "processing" }),
        video("3", { duration_seconds: null, processing_status: "failed", processing_error: "no video stream found" }),
      ],
      next_cursor: null,
    }));
    render(<VideoLibrary />);
    const first = await screen.findByRole("article", { name: "Video 1" });
    const poster = first.querySelector("img");
    expect(poster?.getAttribute("src")).toBe("https://storage.example/p1.jpg?sig=1");
    expect(poster?.getAttribute("alt")).toBe(""); // decorative: the title names the card
    expect(within(first).getByText("1:05")).toBeTruthy();
    expect(within(first).getByText("Ready")).toBeTruthy();
    expect(within(first).queryByText("Processing…")).toBeNull();

    const second = screen.getByRole("article", { name: "Video 2" });
    expect(within(second).getByText("Processing…")).toBeTruthy();
    expect(within(second).queryByText("1:05")).toBeNull();
    expect(within(screen.getByRole("article", { name: "Video 3" })).getByText("Couldn't read this video: no video stream found.")).toBeTruthy();

    // A poster whose URL has expired gives way to the placeholder; the box keeps its size.
    await act(async () => {
      poster?.dispatchEvent(new Event("error"));
    });
    expect(first.querySelector("img")).toBeNull();
  });

  it("re-reads a video whose processing is running until it has finished, then shows its poster", async () => {
    vi.useFakeTimers();
    let probed = false;
    routes((url) =>
      url === "/videos"
        ? { items: [video("2", { duration_seconds: null, processing_status: "pending" })], next_cursor: null }
        : { video: video("2", probed ? ({ processing_status: "done", thumbnail_url: "https://storage.example/p2.jpg" }) : ({ duration_seconds: null, processing_status: "processing" })) },
    );
    try {
      render(<VideoLibrary />);
      await act(() => vi.advanceTimersByTimeAsync(0));
      const card = screen.getByRole("article", { name: "Video 2" });
      expect(within(card).getByText("Processing…")).toBeTruthy();
      await act(() => vi.advanceTimersByTimeAsync(2000));
      expect(get).toHaveBeenLastCalledWith("/videos/2", expect.anything());
      probed = true;
      await act(() => vi.advanceTimersByTimeAsync(3200));
      expect(within(card).queryByText("Processing…")).toBeNull();
      expect(within(card).getByText("1:05")).toBeTruthy();
      expect(card.querySelector("img")?.getAttribute("src")).toBe("https://storage.example/p2.jpg");
      const calls = get.mock.calls.length;
      await act(() => vi.advanceTimersByTimeAsync(60_000));
      expect(get.mock.calls.length).toBe(calls);
    } finally {
      vi.useRealTimers();
    }
  });

  it("opens one player at a time, with the clip editor and the clips beside it", async () => {
    routes((url) =>
      url === "/videos"
        ? { items: [video("1"), video("2")], next_cursor: null }
        : url.endsWith("/clips")
          ? { items: [] }
          : { video: { ...video(url.slice("/videos/".length)), playback_url: "https://storage.example/v" } },
    );
    render(<VideoLibrary />);
    const first = await screen.findByRole("article", { name: "Video 1" });
    const second = screen.getByRole("article", { name: "Video 2" });
    await click(within(first).getByRole("button", { name: "Play" }));
    expect(await within(first).findByRole("region", { name: "Clip editor" })).toBeTruthy();
    expect(await within(first).findByRole("heading", { name: "Clips" })).toBeTruthy();
    expect(get).toHaveBeenCalledWith("/videos/1/clips", expect.anything());

    await click(within(second).getByRole("button", { name: "Play" }));
    expect(await within(second).findByRole("region", { name: "Clip editor" })).toBeTruthy();
    expect(within(first).queryByRole("region", { name: "Clip editor" })).toBeNull();
    expect(within(first).getByRole("button", { name: "Play" })).toBeTruthy();
  });

  it("shows a running import's live progress after a reload", async () => {
    const progress: ImportProgress = {
      video_id: "9",
      status: "downloading",
      step: "downloading",
      percent: 42,
      bytes_uploaded: 42,
      total_bytes: 100,
      speed_bps: 1,
      eta_seconds: 58,
      error: null,
      updated_at: "2026-11-30T07:00:00Z",
    };
    routes((url) =>
      url === "/videos"
        ? { items: [video("9", { source: "url", source_url: "https://example.com/a.mp4", status: "downloading" })], next_cursor: null }
        : progress,
    );
    render(<VideoLibrary />);
    const card = await screen.findByRole("article", { name: "Video 9" });
    expect(await within(card).findByText("Importing 42 %")).toBeTruthy();
    expect(within(card).getByRole("progressbar", { name: "Import of Video 9" }).getAttribute("aria-valuenow")).toBe("42");
    expect(within(card).getByText("Imported from example.com")).toBeTruthy();
  });

  it("stops following a running import before deleting it, and follows it again when the delete fails", async () => {
    const polls: AbortSignal[] = [];
    get.mockImplementation(async (url: string, config?: { signal?: AbortSignal }) => {
      if (url === "/videos") {
        return { data: { items: [video("9", { source: "url", source_url: "https://example.com/a.mp4", status: "downloading" })], next_cursor: null } };
      }
      polls.push(config!.signal!);
      return new Promise(() => {}); // the server has not answered this poll yet
    });
    let pollAbortedBeforeDelete: boolean | null = null;
    del.mockImplementation(async () => {
      pollAbortedBeforeDelete = polls.every((s) => s.aborted);
      throw { status: 503, code: "unavailable", message: "Try again in a moment.", fields: {}, retryAfterSeconds: null };
    });
    render(<VideoLibrary />);
    const card = await screen.findByRole("article", { name: "Video 9" });
    await act(async () => {}); // the first poll goes out
    expect(polls).toHaveLength(1);

    await click(within(card).getByRole("button", { name: "Delete" }));
    await click(within(screen.getByRole("dialog", { name: "Delete video?" })).getByRole("button", { name: "Delete" }));
    expect(del).toHaveBeenCalledWith("/videos/9");
    expect(pollAbortedBeforeDelete).toBe(true);
    // Refused: the card stays and its import is followed again.
    expect(screen.getByRole("article", { name: "Video 9" })).toBeTruthy();
    expect(polls).toHaveLength(2);
    expect(polls[1]?.aborted).toBe(false);
  });

  it("offers Schedule post on ready videos only, and opens the dialog (loaded on demand) there", async () => {
    routes((url) =>
      url === "/videos"
        ? { items: [video("1"), video("2", { status: "processing" })], next_cursor: null }
        : url === "/social-accounts"
          ? { items: [] }
          : null,
    );
    render(<VideoLibrary />);
    const card = await screen.findByRole("article", { name: "Video 1" });
    expect(within(screen.getByRole("article", { name: "Video 2" })).queryByRole("button", { name: "Schedule post" })).toBeNull();

    await click(within(card).getByRole("button", { name: "Schedule post" }));

    const dialog = await screen.findByRole("dialog", { name: "Schedule post" });
    expect(await within(dialog).findByRole("link", { name: "Go to Connections" })).toBeTruthy();
    expect(get).toHaveBeenCalledWith("/social-accounts", expect.anything());
  });
});
