import { act, cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useAuthStore } from "@/lib/store/authStore";
import { errorReply, fakeApi, testUser, type Reply } from "@/test/fakeApi";
import { axeViolations } from "@/test/axe";
import { account, post } from "@/test/social";
import SchedulePostDialog, { type PostTarget } from "./SchedulePostDialog";

// The reader lives in New York: "Date and time" is their wall clock, the API gets UTC. Hoisted
// above the imports, so every date format in this file's modules is made in that zone.
const zone = vi.hoisted(() => {
  const before = process.env.TZ;
  process.env.TZ = "America/New_York";
  return { before };
});
afterAll(() => {
  if (zone.before === undefined) delete process.env.TZ;
  else process.env.TZ = zone.before;
});

const video: PostTarget = { kind: "video", id: "v1", title: "My video" };

beforeEach(() => {
  useAuthStore.setState({ status: "authenticated", accessToken: "token-1", user: testUser, signedOutByUser: false });
  // 07:00 in New York on Nov 30.
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date("2026-11-30T12:00:00Z"));
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

async function open(target: PostTarget, accounts: Reply, created?: Reply | ((body: unknown) => Reply)) {
  const net = fakeApi({
    "GET /social-accounts": accounts,
    "POST /posts": (call) => (typeof created === "function" ? created(call.body) : (created ?? { status: 201, body: { post: post("p1") } })),
  });
  await act(async () => {
    render(<SchedulePostDialog open onClose={() => undefined} target={target} />);
  });
  return { net, dialog: screen.getByRole("dialog", { name: "Schedule post" }) };
}

const oneAccount: Reply = { status: 200, body: { items: [account("a1", { display_name: "Ada's channel" })] } };

async function click(el: HTMLElement) {
  await act(async () => el.click());
}

function type(label: string, value: string) {
  fireEvent.change(screen.getByLabelText(label), { target: { value } });
}

describe("Schedule post", () => {
  it("sends the wall-clock time of the reader's zone as a UTC instant, with the fields the API expects", async () => {
    const { net, dialog } = await open(video, oneAccount, (body) => ({
      status: 201,
      body: { post: post("p1", { scheduled_at: (body as { scheduled_at: string }).scheduled_at }) },
    }));

    expect((screen.getByLabelText("Account") as HTMLSelectElement).value).toBe("a1");
    expect((screen.getByLabelText("Title") as HTMLInputElement).value).toBe("My video");
    type("Title", "  Launch day ");
    type("Caption", "Watch this");
    fireEvent.change(screen.getByLabelText("Privacy"), { target: { value: "unlisted" } });
    await click(screen.getByRole("radio", { name: "Later" }));
    expect(screen.getByText("In your time zone (America/New_York).")).toBeTruthy();
    type("Date and time", "2026-12-01T09:30");
    await click(within(dialog).getByRole("button", { name: "Schedule" }));

    expect(net.called("POST", "/posts")[0]?.body).toEqual({
      video_id: "v1",
      social_account_id: "a1",
      title: "Launch day",
      caption: "Watch this",
      privacy: "unlisted",
      scheduled_at: "2026-12-01T14:30:00.000Z",
    });
    expect(within(dialog).getByRole("status").textContent).toContain("Scheduled for Dec 1, 2026, 9:30 AM.");
    expect(within(dialog).getByRole("link", { name: "Posts" }).getAttribute("href")).toMatch(/^\/posts\/?$/);
  });

  it("refuses a time that has passed, in words next to the field, and sends nothing", async () => {
    const { net, dialog } = await open(video, oneAccount);

    await click(screen.getByRole("radio", { name: "Later" }));
    type("Date and time", "2026-11-30T06:59");
    await click(within(dialog).getByRole("button", { name: "Schedule" }));

    const field = screen.getByLabelText("Date and time");
    expect(field.getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByRole("textbox", { name: "Title" })).toBeTruthy();
    expect(field.getAttribute("aria-describedby")).toContain("-error");
    expect(screen.getByText("That time has already passed. Choose a time in the future.")).toBeTruthy();
    expect(document.activeElement).toBe(field);
    expect(net.called("POST", "/posts")).toHaveLength(0);
    expect(await axeViolations()).toEqual([]);
  });

  it("refuses a title YouTube would refuse and a time more than a year ahead", async () => {
    const { net, dialog } = await open(video, oneAccount);

    type("Title", "Big <news>");
    await click(screen.getByRole("radio", { name: "Later" }));
    type("Date and time", "2027-12-01T09:00");
    await click(within(dialog).getByRole("button", { name: "Schedule" }));

    expect(screen.getByText("The title cannot contain < or > (YouTube refuses them).")).toBeTruthy();
    expect(screen.getByText("Choose a time within a year from now.")).toBeTruthy();
    expect(document.activeElement).toBe(screen.getByLabelText("Title"));
    expect(net.called("POST", "/posts")).toHaveLength(0);
  });

  it("publishes a clip now: no time in the payload", async () => {
    const { net, dialog } = await open({ kind: "clip", id: "c1", title: "Best bit", vertical: true }, oneAccount, {
      status: 201,
      body: { post: post("p1", { clip_id: "c1", video_id: null, status: "scheduled" }) },
    });

    expect(screen.getByText(/#Shorts is added/)).toBeTruthy();
    await click(within(dialog).getByRole("button", { name: "Publish now" }));

    expect(net.called("POST", "/posts")[0]?.body).toEqual({
      clip_id: "c1",
      social_account_id: "a1",
      title: "Best bit",
      caption: "",
      privacy: "public",
    });
    expect(within(dialog).getByRole("status").textContent).toContain("Publishing to YouTube now.");
  });

  it("without a connected account, points to Connections", async () => {
    const { net } = await open(video, { status: 200, body: { items: [account("a1", { status: "needs_reconnect" })] } });

    expect(screen.getByText(/need reconnecting/)).toBeTruthy();
    expect(screen.getByRole("link", { name: "Go to Connections" }).getAttribute("href")).toMatch(/^\/settings\/connections\/?$/);
    expect(screen.queryByRole("button", { name: "Publish now" })).toBeNull();
    expect(net.called("POST", "/posts")).toHaveLength(0);
  });

  it("shows the server's problems next to their fields", async () => {
    const { dialog } = await open(
      video,
      oneAccount,
      errorReply(422, "validation_failed", "Some fields are invalid.", { title: "must be at most 100 characters", scheduled_at: "must not be in the past" }),
    );

    await click(screen.getByRole("radio", { name: "Later" }));
    type("Date and time", "2026-11-30T08:00");
    await click(within(dialog).getByRole("button", { name: "Schedule" }));

    const title = screen.getByRole("textbox", { name: "Title" });
    expect(title.getAttribute("aria-invalid")).toBe("true");
    expect(screen.getByRole("textbox", { name: "Title", description: /Title must be at most 100 characters\./ })).toBe(title);
    expect(screen.getByText("Date and time must not be in the past.")).toBeTruthy();
    expect(document.activeElement).toBe(title);
    expect(within(dialog).queryByRole("alert")).toBeNull();
  });

  it("says why when the server refuses for another reason", async () => {
    const { dialog } = await open(video, oneAccount, errorReply(409, "not_ready", "The video or clip is not ready to be posted yet."));

    await click(within(dialog).getByRole("button", { name: "Publish now" }));

    expect(within(dialog).getByRole("alert").textContent).toContain("This video or clip is not ready to publish yet.");
  });
});
