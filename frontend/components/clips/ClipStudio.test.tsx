import { act, cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Clip, Video } from "@/lib/api/types";
import { useAuthStore } from "@/lib/store/authStore";
import { errorReply, fakeApi, testUser, type Reply } from "@/test/fakeApi";
import ClipStudio from "./ClipStudio";

const VIDEO_ID = "7a1b2c3d-0000-4000-8000-000000000001";

function video(over: Partial<Video> = {}): Video {
  return {
    id: VIDEO_ID,
    title: "Holiday",
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
    processing_status: "done",
    processing_error: null,
    frame_rate: 25,
    video_codec: "h264",
    audio_codec: "aac",
    bit_rate: 1_500_000,
    ...over,
  };
}

function clip(id: string, over: Partial<Clip> = {}): Clip {
  return {
    id,
    video_id: VIDEO_ID,
    title: `Clip ${id}`,
    start_seconds: 2,
    end_seconds: 4,
    aspect: "original",
    status: "ready",
    error: null,
    duration_seconds: 2,
    width: 1280,
    height: 720,
    size_bytes: 250_000,
    created_at: "2026-11-30T07:10:00Z",
    ...over,
  };
}

/** The player's <video>, as the editor sees it: a playhead, play and pause. */
function player() {
  const el = document.createElement("video");
  document.body.append(el);
  let paused = true;
  Object.defineProperty(el, "paused", { get: () => paused });
  el.play = vi.fn(async () => {
    paused = false;
  });
  el.pause = vi.fn(() => {
    paused = true;
    el.dispatchEvent(new Event("pause"));
  });
  return el;
}

let el: HTMLVideoElement;

async function show(v: Video = video()) {
  const ref = { current: el };
  const view = render(<ClipStudio video={v} videoRef={ref} />);
  await act(async () => undefined); // the clips list answers
  return { rerender: (next: Video) => view.rerender(<ClipStudio video={next} videoRef={ref} />) };
}

async function click(target: HTMLElement) {
  await act(async () => {
    fireEvent.click(target);
  });
}

function field(name: string): HTMLInputElement {
  return screen.getByRole(name === "Clip title" ? "textbox" : "spinbutton", { name });
}

const CLIPS = `/videos/${VIDEO_ID}/clips`;

beforeEach(() => {
  useAuthStore.setState({ status: "authenticated", accessToken: "token-1", user: testUser, signedOutByUser: false });
  el = player();
});
afterEach(() => {
  cleanup();
  el.remove();
  vi.useRealTimers();
});

describe("clip editor", () => {
  it("sets start and end at the playhead with the buttons and with I and O", async () => {
    fakeApi({ [`GET ${CLIPS}`]: { status: 200, body: { items: [] } } });
    await show();
    const editor = screen.getByRole("region", { name: "Clip editor" });
    expect(field("Start (seconds)").value).toBe("0");
    expect(field("End (seconds)").value).toBe("10");

    el.currentTime = 12.34;
    await click(within(editor).getByRole("button", { name: "Set start" }));
    expect(field("Start (seconds)").value).toBe("12.3");
    expect(field("End (seconds)").value).toBe("22.3"); // the old end was before the new start

    el.currentTime = 20.06;
    await act(async () => {
      fireEvent.keyDown(document.body, { key: "o" });
    });
    expect(field("End (seconds)").value).toBe("20.1");

    el.currentTime = 15;
    await act(async () => {
      fireEvent.keyDown(el, { key: "I" });
    });
    expect(field("Start (seconds)").value).toBe("15");
    expect(screen.getByText("Clip from 15 s to 20.1 s.")).toBeTruthy(); // said in the live region

    // In a text field, I and O are letters.
    el.currentTime = 1;
    const title = field("Clip title");
    await act(async () => {
      fireEvent.keyDown(title, { key: "i" });
      fireEvent.keyDown(field("End (seconds)"), { key: "o" });
    });
    expect(field("Start (seconds)").value).toBe("15");
    expect(field("End (seconds)").value).toBe("20.1");
  });

  it("checks the range against the video and the maximum length, next to each field", async () => {
    fakeApi({ [`GET ${CLIPS}`]: { status: 200, body: { items: [] } } });
    await show(video({ duration_seconds: 600 }));
    const end = field("End (seconds)");
    expect(end.step).toBe("0.1");

    fireEvent.change(end, { target: { value: "700" } });
    fireEvent.blur(end);
    expect(end.getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByRole("spinbutton", { name: "End (seconds)", description: "The end cannot be after the end of the video (600 s)." })).toBe(end);

    fireEvent.change(end, { target: { value: "200" } });
    expect(screen.getByText("A clip can be at most 180 s long (this one is 200 s).")).toBeTruthy();

    fireEvent.change(end, { target: { value: "0.3" } });
    expect(screen.getByText("A clip must be at least 0.5 s long.")).toBeTruthy();

    fireEvent.change(end, { target: { value: "12" } });
    expect(end.hasAttribute("aria-invalid")).toBe(false);
  });

  it("creates a clip: the range, the aspect and the title go to the server, and the clip is listed with its progress", async () => {
    const net = fakeApi({
      [`GET ${CLIPS}`]: { status: 200, body: { items: [] } },
      [`POST ${CLIPS}`]: ({ body }) => ({
        status: 202,
        body: { clip: { ...clip("c1"), ...(body as object), status: "queued", progress: { percent: null, updated_at: "2026-11-30T07:10:00Z" } } },
      }),
      "GET /clips/c1": { status: 200, body: { clip: clip("c1", { title: "Best bit", status: "processing", progress: { percent: 40, updated_at: "x" } }) } },
    });
    await show();
    expect(screen.getByText("No clips yet.")).toBeTruthy();

    fireEvent.change(field("Start (seconds)"), { target: { value: "2" } });
    fireEvent.change(field("End (seconds)"), { target: { value: "4.5" } });
    const aspect = screen.getByRole("radiogroup", { name: "Aspect" });
    expect(within(aspect).getByRole<HTMLInputElement>("radio", { name: "Original" }).checked).toBe(true);
    await click(within(aspect).getByRole("radio", { name: "Vertical 9:16" }));
    fireEvent.change(field("Clip title"), { target: { value: "Best bit" } });
    await click(screen.getByRole("button", { name: "Create clip" }));

    expect(net.called("POST", CLIPS)[0]?.body).toEqual({ title: "Best bit", start_seconds: 2, end_seconds: 4.5, aspect: "9:16" });
    const list = screen.getByRole("region", { name: "Clips" });
    const item = within(list).getByRole("listitem", { name: "Best bit" });
    expect(field("Clip title").value).toBe("");

    // The first poll: 40 % made.
    await vi.waitFor(() => expect(within(item).getByRole("progressbar", { name: "Clip progress of Best bit" }).getAttribute("aria-valuenow")).toBe("40"));
    expect(within(item).getByText("Making the clip 40 %")).toBeTruthy();
    expect(screen.getByText("Clip “Best bit”: 25 % made.")).toBeTruthy();
  });

  it("names an untitled clip after the video and its range", async () => {
    const net = fakeApi({
      [`GET ${CLIPS}`]: { status: 200, body: { items: [] } },
      [`POST ${CLIPS}`]: errorReply(429, "too_many_clips", "too many clips in flight"),
    });
    await show();
    await click(screen.getByRole("button", { name: "Create clip" }));
    expect(net.called("POST", CLIPS)[0]?.body).toMatchObject({ title: "Holiday 0:00–0:10", start_seconds: 0, end_seconds: 10, aspect: "original" });
    expect(screen.getByRole("alert").textContent).toContain("You already have as many clips being made as allowed.");
  });

  it("sends nothing while the range is wrong, and shows the server's field problems next to the fields", async () => {
    const net = fakeApi({
      [`GET ${CLIPS}`]: { status: 200, body: { items: [] } },
      [`POST ${CLIPS}`]: errorReply(422, "validation_failed", "Some fields are invalid.", { end_seconds: "the clip must be at most 120 seconds long", aspect: 'must be "original" or "9:16"' }),
    });
    await show();
    fireEvent.change(field("End (seconds)"), { target: { value: "" } });
    await click(screen.getByRole("button", { name: "Create clip" }));
    expect(net.called("POST", CLIPS)).toHaveLength(0);
    expect(screen.getByText("Enter the end in seconds, for example 20.")).toBeTruthy();
    expect(document.activeElement).toBe(field("End (seconds)")); // the keyboard goes to the problem

    fireEvent.change(field("End (seconds)"), { target: { value: "8" } });
    await click(screen.getByRole("button", { name: "Create clip" }));
    expect(net.called("POST", CLIPS)).toHaveLength(1);
    expect(field("End (seconds)").getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByText("The clip must be at most 120 seconds long.")).toBeTruthy();
    expect(screen.getByRole("alert").textContent).toContain('The aspect must be "original" or "9:16".');
  });

  it("says in words when the video is not ready for clips", async () => {
    fakeApi({
      [`GET ${CLIPS}`]: { status: 200, body: { items: [] } },
      [`POST ${CLIPS}`]: errorReply(409, "video_not_ready", "video is not ready"),
    });
    await show();
    await click(screen.getByRole("button", { name: "Create clip" }));
    expect(screen.getByRole("alert").textContent).toContain("This video isn't ready for clips yet");
  });

  it("waits for processing before clips can be made", async () => {
    fakeApi({ [`GET ${CLIPS}`]: { status: 200, body: { items: [] } } });
    const view = await show(video({ processing_status: "processing", duration_seconds: null }));
    expect(screen.getByText(/Clips can be made once this video has been processed/)).toBeTruthy();
    expect(screen.getByRole("button", { name: "Create clip" }).matches(":disabled")).toBe(true);
    expect(screen.getByRole("button", { name: "Set start" }).matches(":disabled")).toBe(true);
    expect(field("End (seconds)").value).toBe("");

    // Processing finishes while the editor is open: the range gets the first 10 s.
    view.rerender(video({ processing_status: "done", duration_seconds: 65 }));
    expect(screen.queryByText(/Clips can be made once/)).toBeNull();
    expect(screen.getByRole("button", { name: "Create clip" }).matches(":disabled")).toBe(false);
    expect(field("End (seconds)").value).toBe("10");
  });

  it("previews the range: plays from the start and pauses at the end", async () => {
    fakeApi({ [`GET ${CLIPS}`]: { status: 200, body: { items: [] } } });
    await show();
    fireEvent.change(field("Start (seconds)"), { target: { value: "3" } });
    fireEvent.change(field("End (seconds)"), { target: { value: "5" } });
    await click(screen.getByRole("button", { name: "Preview clip" }));
    expect(el.currentTime).toBe(3);
    expect(el.play).toHaveBeenCalledTimes(1);

    el.currentTime = 4.2;
    el.dispatchEvent(new Event("timeupdate"));
    expect(el.pause).not.toHaveBeenCalled();
    el.currentTime = 5.1;
    el.dispatchEvent(new Event("timeupdate"));
    expect(el.pause).toHaveBeenCalledTimes(1);
    // Stopped: playing on past the end later is left alone.
    el.currentTime = 9;
    el.dispatchEvent(new Event("timeupdate"));
    expect(el.pause).toHaveBeenCalledTimes(1);
  });
});

describe("clips list", () => {
  it("shows each clip's state, plays a ready one from a fresh URL and gets another once when it expires", async () => {
    let n = 0;
    fakeApi({
      [`GET ${CLIPS}`]: {
        status: 200,
        body: { items: [clip("c1", { title: "Goal" }), clip("c2", { title: "Miss", status: "failed", error: "the source could not be read" })] },
      },
      "GET /clips/c1": (): Reply => ({ status: 200, body: { clip: clip("c1", { title: "Goal", playback_url: `https://storage.example/c1?sig=${++n}` }) } }),
    });
    await show();
    const list = screen.getByRole("region", { name: "Clips" });
    const goal = within(list).getByRole("listitem", { name: "Goal" });
    const miss = within(list).getByRole("listitem", { name: "Miss" });
    expect(within(goal).getByText("Ready")).toBeTruthy();
    expect(within(miss).getByText("Failed: the source could not be read.")).toBeTruthy();
    expect(within(miss).queryByRole("button", { name: "Play clip Miss" })).toBeNull();
    expect(within(goal).queryByRole("progressbar")).toBeNull();

    await click(within(goal).getByRole("button", { name: "Play clip Goal" }));
    const media = await within(goal).findByLabelText<HTMLVideoElement>("Clip Goal");
    expect(media.tagName).toBe("VIDEO");
    await vi.waitFor(() => expect(media.getAttribute("src")).toBe("https://storage.example/c1?sig=1"));
    await act(async () => {
      media.dispatchEvent(new Event("error"));
    });
    await vi.waitFor(() => expect(media.getAttribute("src")).toBe("https://storage.example/c1?sig=2"));
  });

  it("follows a clip being made until it is ready, then stops asking", async () => {
    vi.useFakeTimers();
    const answers = [
      clip("c1", { title: "Goal", status: "processing", progress: { percent: 30, updated_at: "a" } }),
      clip("c1", { title: "Goal", status: "processing", progress: { percent: 80, updated_at: "b" } }),
      clip("c1", { title: "Goal", status: "ready" }),
    ];
    let i = 0;
    const net = fakeApi({
      [`GET ${CLIPS}`]: { status: 200, body: { items: [clip("c1", { title: "Goal", status: "queued", progress: { percent: null, updated_at: "z" } })] } },
      "GET /clips/c1": (): Reply => ({ status: 200, body: { clip: answers[Math.min(i++, answers.length - 1)] } }),
    });
    await show();
    const goal = screen.getByRole("listitem", { name: "Goal" });
    await act(() => vi.advanceTimersByTimeAsync(0));
    expect(within(goal).getByRole("progressbar", { name: "Clip progress of Goal" }).getAttribute("aria-valuenow")).toBe("30");
    await act(() => vi.advanceTimersByTimeAsync(1000));
    expect(within(goal).getByRole("progressbar", { name: "Clip progress of Goal" }).getAttribute("aria-valuenow")).toBe("80");
    expect(screen.getByText("Clip “Goal”: 75 % made.")).toBeTruthy();
    await act(() => vi.advanceTimersByTimeAsync(1000));
    expect(within(goal).queryByRole("progressbar")).toBeNull();
    expect(within(goal).getByText("Ready")).toBeTruthy();
    expect(screen.getByText("Clip “Goal” is ready.")).toBeTruthy();
    await act(() => vi.advanceTimersByTimeAsync(30_000));
    expect(net.called("GET", "/clips/c1")).toHaveLength(3);
  });

  it("deletes a clip after confirmation", async () => {
    const net = fakeApi({
      [`GET ${CLIPS}`]: { status: 200, body: { items: [clip("c1", { title: "Goal" }), clip("c2", { title: "Miss" })] } },
      "DELETE /clips/c1": { status: 204 },
    });
    await show();
    const goal = screen.getByRole("listitem", { name: "Goal" });
    await click(within(goal).getByRole("button", { name: "Delete clip Goal" }));
    const dialog = screen.getByRole("dialog", { name: "Delete clip?" });
    await click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(net.called("DELETE", "/clips/c1")).toHaveLength(0);

    await click(within(goal).getByRole("button", { name: "Delete clip Goal" }));
    await click(within(screen.getByRole("dialog", { name: "Delete clip?" })).getByRole("button", { name: "Delete" }));
    expect(net.called("DELETE", "/clips/c1")).toHaveLength(1);
    expect(screen.queryByRole("listitem", { name: "Goal" })).toBeNull();
    expect(screen.getByRole("listitem", { name: "Miss" })).toBeTruthy();
    expect(screen.getByText("Clip “Goal” deleted.")).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByRole("heading", { name: "Clips" }));
  });

  it("offers Schedule post on a ready clip, for that clip, as a Short when it is vertical", async () => {
    const net = fakeApi({
      [`GET /videos/${VIDEO_ID}/clips`]: { status: 200, body: { items: [clip("c1", { aspect: "9:16" }), clip("c2", { status: "failed", error: "ffmpeg failed" })] } },
      "GET /social-accounts": { status: 200, body: { items: [{ id: "a1", platform: "youtube", external_id: "UC1", display_name: "Ada", avatar_url: "", scopes: [], status: "active", created_at: "2026-11-30T06:00:00Z" }] } },
      "POST /posts": { status: 201, body: { post: {} } },
    });
    await show();
    const ready = await screen.findByRole("listitem", { name: "Clip c1" });
    const failed = screen.getByRole("listitem", { name: "Clip c2" });
    expect(within(failed).queryByRole("button", { name: "Schedule post" })).toBeNull();

    await click(within(ready).getByRole("button", { name: "Schedule post" }));
    const dialog = await screen.findByRole("dialog", { name: "Schedule post" });
    expect(await within(dialog).findByText(/#Shorts is added/)).toBeTruthy();
    await click(within(dialog).getByRole("button", { name: "Publish now" }));

    expect(net.called("POST", "/posts")[0]?.body).toMatchObject({ clip_id: "c1", social_account_id: "a1", title: "Clip c1" });
  });
});
