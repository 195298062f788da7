import { act, cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Post } from "@/lib/api/social";
import { useAuthStore } from "@/lib/store/authStore";
import { errorReply, fakeApi, testUser, type Reply } from "@/test/fakeApi";
import { axeViolations } from "@/test/axe";
import { account, post } from "@/test/social";
import { PostsView } from "./PostsView";

const accounts: Reply = { status: 200, body: { items: [account("a1", { display_name: "Ada's channel" })] } };

beforeEach(() => {
  useAuthStore.setState({ status: "authenticated", accessToken: "token-1", user: testUser, signedOutByUser: false });
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

function page(items: Post[], next_cursor: string | null = null): Reply {
  return { status: 200, body: { items, next_cursor } };
}

async function show() {
  let view: ReturnType<typeof render> | undefined;
  await act(async () => {
    view = render(<PostsView />);
  });
  return view!;
}

async function click(el: HTMLElement) {
  await act(async () => el.click());
}

async function wait(ms: number) {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

describe("Posts", () => {
  it("lists upcoming posts, and past ones under Past", async () => {
    const net = fakeApi({
      "GET /social-accounts": accounts,
      "GET /posts": (call) => {
        switch (call.params.status) {
          case "scheduled":
            return page([post("p1", { title: "Launch day" })]);
          case "published":
            return page([post("p2", { title: "Teaser", status: "published", published_at: "2026-11-29T10:00:00Z", external_url: "https://youtu.be/abc" })]);
          case "failed":
            return page([post("p3", { title: "Outtakes", status: "failed", error: "quota exceeded" })]);
        }
        return page([]);
      },
    });
    await show();

    expect(screen.getByRole("heading", { level: 1, name: "Posts" })).toBeTruthy();
    expect(screen.getByRole("tab", { name: "Upcoming" }).getAttribute("aria-selected")).toBe("true");
    const upcoming = screen.getByRole("article", { name: "Launch day" });
    expect(within(upcoming).getByText(/^Scheduled for Dec 1, 2026/)).toBeTruthy();
    expect(within(upcoming).getByText("YouTube · Ada's channel")).toBeTruthy();
    // The API filters by one status: a view asks once per status it shows.
    expect(net.called("GET", "/posts").map((c) => c.params.status)).toEqual(["scheduled", "publishing"]);

    await click(screen.getByRole("tab", { name: "Past" }));

    expect(net.called("GET", "/posts").map((c) => c.params.status)).toEqual(["scheduled", "publishing", "published", "failed", "cancelled"]);
    expect(screen.queryByRole("article", { name: "Launch day" })).toBeNull();
    const published = screen.getByRole("article", { name: "Teaser" });
    expect(within(published).getByText("Published")).toBeTruthy();
    expect(within(published).getByRole("link", { name: "View on YouTube" }).getAttribute("href")).toBe("https://youtu.be/abc");
    expect(within(published).queryByRole("button", { name: "Cancel post" })).toBeNull();
    expect(within(screen.getByRole("article", { name: "Outtakes" })).getByText("Failed: quota exceeded.")).toBeTruthy();
    expect(await axeViolations()).toEqual([]);
  });

  it("cancels a scheduled post only after confirmation", async () => {
    const net = fakeApi({
      "GET /social-accounts": accounts,
      "GET /posts": page([post("p1", { title: "Launch day" })]),
      "POST /posts/p1/cancel": { status: 200, body: { post: post("p1", { title: "Launch day", status: "cancelled" }) } },
    });
    await show();
    const article = screen.getByRole("article", { name: "Launch day" });

    await click(within(article).getByRole("button", { name: "Cancel post" }));
    await click(within(screen.getByRole("dialog", { name: "Cancel this post?" })).getByRole("button", { name: "Keep post" }));
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(net.called("POST", "/posts/p1/cancel")).toHaveLength(0);

    await click(within(article).getByRole("button", { name: "Cancel post" }));
    await click(within(screen.getByRole("dialog", { name: "Cancel this post?" })).getByRole("button", { name: "Cancel post" }));

    expect(net.called("POST", "/posts/p1/cancel")).toHaveLength(1);
    expect(within(article).getByText("Cancelled")).toBeTruthy();
    expect(within(article).queryByRole("button", { name: "Cancel post" })).toBeNull();
  });

  it("says so when the post started publishing before the cancel arrived, and shows it publishing", async () => {
    fakeApi({
      "GET /social-accounts": accounts,
      "GET /posts": (call) => page(call.params.status === "scheduled" ? [post("p1", { title: "Launch day" })] : []),
      "POST /posts/p1/cancel": errorReply(409, "not_cancellable", "The post is already publishing or finished and can no longer be cancelled."),
      "GET /posts/p1": { status: 200, body: { post: post("p1", { title: "Launch day", status: "publishing" }) } },
    });
    await show();
    const article = screen.getByRole("article", { name: "Launch day" });

    await click(within(article).getByRole("button", { name: "Cancel post" }));
    const dialog = screen.getByRole("dialog", { name: "Cancel this post?" });
    await click(within(dialog).getByRole("button", { name: "Cancel post" }));

    expect(within(dialog).getByRole("alert").textContent).toContain("already being published and can no longer be cancelled");
    expect(within(article).getByText("Publishing…")).toBeTruthy();
  });

  it("pages each status with its own cursor under Load more", async () => {
    const net = fakeApi({
      "GET /social-accounts": accounts,
      "GET /posts": (call) => {
        if (call.params.status === "publishing") return page([]);
        return call.params.cursor === "c2"
          ? page([post("p2", { title: "Second", scheduled_at: "2026-12-03T09:00:00Z" })])
          : page([post("p1", { title: "First", scheduled_at: "2026-12-02T09:00:00Z" })], "c2");
      },
    });
    await show();
    expect(screen.getAllByRole("article").map((a) => a.querySelector("h2")?.textContent)).toEqual(["First"]);

    await click(screen.getByRole("button", { name: "Load more" }));

    expect(net.called("GET", "/posts").at(-1)?.params).toMatchObject({ status: "scheduled", cursor: "c2" });
    expect(net.called("GET", "/posts")).toHaveLength(3); // publishing had no next page: not asked again
    expect(screen.getAllByRole("article").map((a) => a.querySelector("h2")?.textContent)).toEqual(["First", "Second"]);
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
  });

  it("follows a publishing post with backoff and stops once it is published", async () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date("2026-11-30T12:00:00Z"));
    const answers = [
      post("p1", { title: "Launch day", status: "publishing" }),
      post("p1", { title: "Launch day", status: "publishing" }),
      post("p1", { title: "Launch day", status: "published", published_at: "2026-11-30T12:00:07Z", external_url: "https://youtu.be/xyz" }),
    ];
    const net = fakeApi({
      "GET /social-accounts": accounts,
      "GET /posts": page([post("p1", { title: "Launch day", status: "publishing" })]),
      "GET /posts/p1": () => ({ status: 200, body: { post: answers.shift() ?? answers[0] } }),
    });
    await show();
    const article = screen.getByRole("article", { name: "Launch day" });
    expect(within(article).getByText("Publishing…")).toBeTruthy();
    expect(net.called("GET", "/posts/p1")).toHaveLength(0);

    await wait(2000);
    expect(net.called("GET", "/posts/p1")).toHaveLength(1);
    await wait(2000);
    expect(net.called("GET", "/posts/p1")).toHaveLength(2);
    await wait(2000); // nothing changed last time: the wait grew to 3 s
    expect(net.called("GET", "/posts/p1")).toHaveLength(2);
    await wait(1000);
    expect(net.called("GET", "/posts/p1")).toHaveLength(3);

    expect(within(article).getByText("Published")).toBeTruthy();
    expect(within(article).getByRole("link", { name: "View on YouTube" }).getAttribute("href")).toBe("https://youtu.be/xyz");
    expect(screen.getByText("“Launch day” is published.")).toBeTruthy();

    await wait(120_000);
    expect(net.called("GET", "/posts/p1")).toHaveLength(3);
  });

  it("starts following a scheduled post at its time, and stops when the page goes away", async () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date("2026-11-30T12:00:00Z"));
    const net = fakeApi({
      "GET /social-accounts": accounts,
      "GET /posts": page([post("p1", { title: "Launch day", scheduled_at: "2026-11-30T12:01:00Z" })]),
      "GET /posts/p1": { status: 200, body: { post: post("p1", { title: "Launch day", status: "publishing", scheduled_at: "2026-11-30T12:01:00Z" }) } },
    });
    const view = await show();

    await wait(59_000);
    expect(net.called("GET", "/posts/p1")).toHaveLength(0);
    await wait(1000); // its time: the watch wakes up, and polls after the first 2 s wait
    await wait(2000);
    expect(net.called("GET", "/posts/p1")).toHaveLength(1);
    expect(within(screen.getByRole("article", { name: "Launch day" })).getByText("Publishing…")).toBeTruthy();

    view.unmount();
    await wait(120_000);
    expect(net.called("GET", "/posts/p1")).toHaveLength(1);
  });
});
