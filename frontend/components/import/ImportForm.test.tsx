import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ImportProgress } from "@/lib/api/types";

const get = vi.fn();
const post = vi.fn();
vi.mock("@/lib/axios", async (importOriginal) => {
  const real = await importOriginal<typeof import("@/lib/axios")>();
  return { ...real, api: { get, post } };
});

const { ImportForm } = await import("./ImportForm");

const ID = "6a1f0f0e-0000-4000-8000-000000000001";
const base: ImportProgress = {
  video_id: ID,
  status: "downloading",
  step: "downloading",
  percent: 25,
  bytes_uploaded: 2_500_000,
  total_bytes: 10_000_000,
  speed_bps: 1_000_000,
  eta_seconds: 8,
  error: null,
  updated_at: "2026-11-30T07:00:00Z",
};

beforeEach(() => {
  vi.useFakeTimers();
  get.mockReset();
  post.mockReset();
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

async function submit(url: string) {
  fireEvent.change(screen.getByLabelText("Video URL"), { target: { value: url } });
  await act(async () => screen.getByRole("button", { name: "Import" }).click());
}

describe("ImportForm", () => {
  it("shows live progress with numbers and step, then 100 % when ready", async () => {
    post.mockResolvedValueOnce({ data: { video_id: ID, status: "queued" } });
    get.mockResolvedValueOnce({ data: base }).mockResolvedValue({ data: { ...base, status: "ready", step: "done", percent: 100, bytes_uploaded: 10_000_000 } });
    render(<ImportForm />);
    await submit("https://example.com/v.mp4");
    const bar = screen.getByRole("progressbar", { name: "Import progress" });
    expect(bar.getAttribute("aria-valuenow")).toBe("25");
    expect(screen.getByText("2.5 MB of 10 MB")).toBeTruthy();
    expect(screen.getByText("1 MB/s")).toBeTruthy();
    expect(screen.getByText("8 s")).toBeTruthy();
    expect(screen.getByText("Downloading")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Cancel import" })).toBeTruthy();

    await act(() => vi.advanceTimersByTimeAsync(1000));
    expect(screen.getByRole("progressbar", { name: "Import progress" }).getAttribute("aria-valuenow")).toBe("100");
    expect(screen.queryByRole("button", { name: "Cancel import" })).toBeNull();
    expect(screen.getByRole("link", { name: "Open in library" })).toBeTruthy();
  });

  it("says why the import failed, as an alert", async () => {
    post.mockResolvedValueOnce({ data: { video_id: ID, status: "queued" } });
    get.mockResolvedValue({ data: { ...base, status: "failed", step: "failed", error: "the link is not a video" } });
    render(<ImportForm />);
    await submit("https://example.com/page");
    expect(screen.getByRole("alert").textContent).toContain("The link is not a video.");
  });

  it("cancels a running import", async () => {
    post.mockResolvedValueOnce({ data: { video_id: ID, status: "queued" } }).mockResolvedValueOnce({ data: { video_id: ID, status: "cancelled" } });
    get.mockResolvedValue({ data: base });
    render(<ImportForm />);
    await submit("https://example.com/v.mp4");
    await act(async () => screen.getByRole("button", { name: "Cancel import" }).click());
    expect(post).toHaveBeenLastCalledWith(`/imports/${ID}/cancel`);
    expect(screen.getByRole("heading", { name: "Import cancelled" })).toBeTruthy();
  });

  it("asks for a link before sending anything", async () => {
    render(<ImportForm />);
    await act(async () => screen.getByRole("button", { name: "Import" }).click());
    expect(screen.getByLabelText("Video URL").getAttribute("aria-invalid")).toBe("true");
    expect(post).not.toHaveBeenCalled();
  });
});
