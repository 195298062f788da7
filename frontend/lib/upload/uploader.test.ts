import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BlobRequestError } from "./blob";
import { blockId, planBlocks } from "./blocks";
import { backoffDelay, transferBlocks, type UploadTarget } from "./uploader";
import { startBlobServer, type TestBlobServer } from "./testBlobServer";

const BLOCK = 1024;

// jsdom's Blob has no arrayBuffer(): remember each test file's bytes to compare with what was committed.
const contents = new WeakMap<Blob, Buffer>();

function fileOf(size: number): File {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >> 10)) & 0xff;
  const file = new File([bytes], "clip.mp4", { type: "video/mp4" });
  contents.set(file, bytes);
  return file;
}

async function bytesOf(file: Blob): Promise<Buffer> {
  const bytes = contents.get(file);
  if (!bytes) throw new Error("not a test file");
  return bytes;
}

let server: TestBlobServer;
beforeEach(async () => {
  server = await startBlobServer();
  server.allow("s1");
});
afterEach(async () => {
  await server.close();
});

const farFuture = () => Date.now() + 15 * 60_000;

function target(sig: string, expiresAt = farFuture()): UploadTarget {
  return { url: server.sasUrl(sig), expiresAt };
}

describe("transferBlocks against a local blob server", () => {
  it("stages every block, commits the list in order with the content type, and reports progress up to the size", async () => {
    const file = fileOf(5 * BLOCK + 300);
    const plan = planBlocks(file.size, BLOCK);
    const progress: number[] = [];
    await transferBlocks({
      file,
      plan,
      toSend: plan,
      contentType: "video/mp4",
      target: target("s1"),
      renew: () => Promise.reject(new Error("no renew expected")),
      onProgress: (n) => progress.push(n),
      concurrency: 3,
    });
    expect(server.committed?.contentType).toBe("video/mp4");
    expect(server.committed?.body.equals(await bytesOf(file))).toBe(true);
    expect(server.staged.get(blockId(5))?.length).toBe(300);
    expect(progress[0]).toBe(0);
    expect(progress.at(-1)).toBe(file.size);
    expect(Math.max(...progress)).toBe(file.size);
  });

  it("retries a block that failed once, alone", async () => {
    const file = fileOf(4 * BLOCK);
    const plan = planBlocks(file.size, BLOCK);
    server.failBlockOnce(blockId(2), 500);
    const delays: number[] = [];
    await transferBlocks({
      file,
      plan,
      toSend: plan,
      contentType: "video/mp4",
      target: target("s1"),
      renew: () => Promise.reject(new Error("no renew expected")),
      retryDelay: (n) => (delays.push(n), 1),
    });
    const puts = server.requests.filter((r) => r.comp === "block");
    expect(puts.filter((r) => r.blockId === blockId(2)).map((r) => r.status)).toEqual([500, 201]);
    expect(puts).toHaveLength(5);
    expect(delays).toEqual([1]);
    expect(server.committed?.body.equals(await bytesOf(file))).toBe(true);
  });

  it("renews the URL once when storage answers 403, then goes on with the new one", async () => {
    const file = fileOf(3 * BLOCK);
    const plan = planBlocks(file.size, BLOCK);
    server.revoke("s1");
    server.allow("s2");
    const renew = vi.fn(async () => target("s2"));
    await transferBlocks({ file, plan, toSend: plan, contentType: "video/mp4", target: target("s1"), renew, concurrency: 3 });
    expect(renew).toHaveBeenCalledTimes(1); // three blocks saw the 403; one shared renewal
    expect(server.requests.filter((r) => r.status === 201).every((r) => r.sig === "s2")).toBe(true);
    expect(server.committed?.body.equals(await bytesOf(file))).toBe(true);
  });

  it("renews before the URL expires instead of waiting for a 403", async () => {
    const file = fileOf(2 * BLOCK);
    const plan = planBlocks(file.size, BLOCK);
    server.allow("s2");
    const renew = vi.fn(async () => target("s2"));
    await transferBlocks({
      file,
      plan,
      toSend: plan,
      contentType: "video/mp4",
      target: target("s1", Date.now() + 60_000), // inside the 2-minute margin
      renew,
    });
    expect(renew).toHaveBeenCalledTimes(1);
    expect(server.requests.map((r) => r.sig)).toEqual(["s2", "s2", "s2"]);
  });

  it("sends only the blocks not staged yet when resuming, counting the others as sent", async () => {
    const file = fileOf(4 * BLOCK);
    const plan = planBlocks(file.size, BLOCK);
    // An earlier tab staged blocks 0 and 3.
    for (const b of [plan[0], plan[3]]) if (b) server.staged.set(b.id, (await bytesOf(file)).subarray(b.start, b.end));
    const progress: number[] = [];
    await transferBlocks({
      file,
      plan,
      toSend: [plan[1], plan[2]].filter((b) => b !== undefined),
      contentType: "video/mp4",
      target: target("s1"),
      renew: () => Promise.reject(new Error("no renew expected")),
      onProgress: (n) => progress.push(n),
    });
    expect(server.requests.filter((r) => r.comp === "block").map((r) => r.blockId).sort()).toEqual(
      [blockId(1), blockId(2)].sort(),
    );
    expect(progress[0]).toBe(2 * BLOCK);
    expect(progress.at(-1)).toBe(file.size);
    expect(server.committed?.body.equals(await bytesOf(file))).toBe(true);
  });

  it("gives up after the bounded number of attempts and says why", async () => {
    const file = fileOf(BLOCK);
    const plan = planBlocks(file.size, BLOCK);
    for (let i = 0; i < 3; i++) server.failBlockOnce(blockId(0), 503);
    const err = await transferBlocks({
      file,
      plan,
      toSend: plan,
      contentType: "video/mp4",
      target: target("s1"),
      renew: () => Promise.reject(new Error("no renew expected")),
      maxAttempts: 3,
      retryDelay: () => 1,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlobRequestError);
    expect((err as BlobRequestError).status).toBe(503);
    expect(server.committed).toBeNull();
  });

  it("does not retry a request storage refuses for good (400)", async () => {
    const file = fileOf(BLOCK);
    const plan = planBlocks(file.size, BLOCK);
    server.failBlockOnce(blockId(0), 400);
    const err = await transferBlocks({
      file,
      plan,
      toSend: plan,
      contentType: "video/mp4",
      target: target("s1"),
      renew: () => Promise.reject(new Error("no renew expected")),
      retryDelay: () => 1,
    }).catch((e: unknown) => e);
    expect((err as BlobRequestError).status).toBe(400);
    expect(server.requests.filter((r) => r.comp === "block")).toHaveLength(1);
  });

  it("aborts the requests in flight when cancelled", async () => {
    const file = fileOf(8 * BLOCK);
    const plan = planBlocks(file.size, BLOCK);
    server.holdBlocks();
    const controller = new AbortController();
    const run = transferBlocks({
      file,
      plan,
      toSend: plan,
      contentType: "video/mp4",
      target: target("s1"),
      renew: () => Promise.reject(new Error("no renew expected")),
      signal: controller.signal,
      concurrency: 4,
    }).catch((e: unknown) => e);
    await server.waitForHeld(4); // four blocks in flight at once, no more
    controller.abort();
    const err = await run;
    expect((err as Error).name).toBe("AbortError");
    await server.waitForClientAborts(4);
    expect(server.committed).toBeNull();
    expect(server.requests.filter((r) => r.comp === "block")).toHaveLength(0);
  });
});

describe("backoffDelay", () => {
  it("doubles with each attempt, keeps half of it fixed, and is capped", () => {
    expect(backoffDelay(1, () => 0)).toBe(250);
    expect(backoffDelay(1, () => 1)).toBe(500);
    expect(backoffDelay(3, () => 0)).toBe(1000);
    expect(backoffDelay(20, () => 1)).toBe(15_000);
  });
});

describe("transferBlocks progress per byte", () => {
  // jsdom's XHR reports upload progress only once a body is fully sent; browsers report it as the
  // bytes go. This stand-in reports each body in quarters, one block at a time, to check the totals.
  class QuarterXHR {
    static sent: number[] = [];
    upload: { onprogress: ((e: { loaded: number }) => void) | null } = { onprogress: null };
    status = 0;
    responseText = "";
    onload: (() => void) | null = null;
    onerror: (() => void) | null = null;
    onabort: (() => void) | null = null;
    open() {}
    setRequestHeader() {}
    getResponseHeader() {
      return null;
    }
    abort() {
      this.onabort?.();
    }
    send(body: Blob | string) {
      const size = typeof body === "string" ? body.length : body.size;
      queueMicrotask(() => {
        for (const q of [1, 2, 3, 4]) this.upload.onprogress?.({ loaded: (size * q) / 4 });
        this.status = 201;
        this.onload?.();
      });
    }
  }

  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("counts the bytes of blocks in flight, so the bar moves within a block and ends at the size", async () => {
    vi.stubGlobal("XMLHttpRequest", QuarterXHR);
    const file = fileOf(2 * BLOCK);
    const plan = planBlocks(file.size, BLOCK);
    const progress: number[] = [];
    await transferBlocks({
      file,
      plan,
      toSend: plan,
      contentType: "video/mp4",
      target: target("s1"),
      renew: () => Promise.reject(new Error("no renew expected")),
      onProgress: (n) => progress.push(n),
      concurrency: 1,
    });
    expect(progress).toEqual([0, 256, 512, 768, 1024, 1024, 1280, 1536, 1792, 2048, 2048]);
  });
});
