// Test helper (not shipped): a real local HTTP server that behaves like one blob of Blob Storage
// behind a SAS URL — Put Block, Put Block List, CORS preflight — with failures to order.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface BlobRequest {
  comp: string;
  blockId: string | null;
  sig: string;
  status: number;
}

interface Held {
  release: () => void;
}

export interface TestBlobServer {
  origin: string;
  /** The SAS-like URL signed with `sig` (see allow/revoke). */
  sasUrl(sig: string): string;
  allow(sig: string): void;
  revoke(sig: string): void;
  /** The next Put Block of `id` answers `status` (once per call). */
  failBlockOnce(id: string, status: number): void;
  /** Hold Put Block answers until released; resolves when `n` are held. */
  holdBlocks(): void;
  waitForHeld(n: number): Promise<void>;
  releaseAll(): void;
  /** Resolves when `n` requests were closed by the client before an answer. */
  waitForClientAborts(n: number): Promise<void>;
  staged: Map<string, Buffer>;
  committed: { body: Buffer; contentType: string | null } | null;
  requests: BlobRequest[];
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export async function startBlobServer(): Promise<TestBlobServer> {
  const allowed = new Set<string>();
  const failures = new Map<string, number[]>();
  let holding = false;
  const held: Held[] = [];
  const heldWaiters: { n: number; resolve: () => void }[] = [];
  let clientAborts = 0;
  const abortWaiters: { n: number; resolve: () => void }[] = [];
  const state: Pick<TestBlobServer, "staged" | "committed" | "requests"> = { staged: new Map(), committed: null, requests: [] };

  const cors = (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader("Access-Control-Allow-Origin", req.headers.origin ?? "*");
    res.setHeader("Access-Control-Expose-Headers", "x-ms-error-code");
  };
  const answer = (res: ServerResponse, status: number, code?: string) => {
    if (code) res.setHeader("x-ms-error-code", code);
    res.statusCode = status;
    res.end(code ? `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code></Error>` : "");
  };

  const server = createServer(async (req, res) => {
    cors(req, res);
    if (req.method === "OPTIONS") {
      res.setHeader("Access-Control-Allow-Methods", "PUT");
      res.setHeader("Access-Control-Allow-Headers", req.headers["access-control-request-headers"] ?? "");
      res.setHeader("Access-Control-Max-Age", "600");
      res.statusCode = 200;
      res.end();
      return;
    }
    const url = new URL(req.url ?? "/", "http://x");
    const comp = url.searchParams.get("comp") ?? "";
    const blockId = url.searchParams.get("blockid");
    const sig = url.searchParams.get("sig") ?? "";
    let aborted = false;
    res.on("close", () => {
      if (!res.writableEnded) {
        aborted = true;
        clientAborts++;
        for (const w of abortWaiters.filter((w) => clientAborts >= w.n)) w.resolve();
      }
    });
    const body = await readBody(req).catch(() => null);
    const record = (status: number) => state.requests.push({ comp, blockId, sig, status });
    if (body === null || aborted) return;
    if (req.method !== "PUT") return answer(res, 405);
    if (!allowed.has(sig)) {
      record(403);
      return answer(res, 403, "AuthenticationFailed");
    }
    if (comp === "block" && blockId) {
      const planned = failures.get(blockId);
      const status = planned?.shift();
      if (status !== undefined) {
        record(status);
        return answer(res, status, status >= 500 ? "InternalError" : "InvalidInput");
      }
      if (holding) {
        await new Promise<void>((release) => {
          held.push({ release });
          for (const w of heldWaiters.filter((w) => held.length >= w.n)) w.resolve();
        });
        if (aborted) return;
      }
      state.staged.set(blockId, body);
      record(201);
      return answer(res, 201);
    }
    if (comp === "blocklist") {
      const ids = [...body.toString("utf8").matchAll(/<Latest>([^<]+)<\/Latest>/g)].map((m) => m[1] ?? "");
      const parts = ids.map((id) => state.staged.get(id));
      if (parts.some((p) => p === undefined)) {
        record(400);
        return answer(res, 400, "InvalidBlockList");
      }
      const ct = req.headers["x-ms-blob-content-type"];
      state.committed = { body: Buffer.concat(parts as Buffer[]), contentType: typeof ct === "string" ? ct : null };
      record(201);
      return answer(res, 201);
    }
    record(400);
    answer(res, 400, "InvalidQueryParameterValue");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  return {
    origin,
    ...state,
    get committed() {
      return state.committed;
    },
    sasUrl: (sig) => `${origin}/devstoreaccount1/videos/blob-1?sv=2024-11-04&sp=cw&sig=${sig}`,
    allow: (sig) => void allowed.add(sig),
    revoke: (sig) => void allowed.delete(sig),
    failBlockOnce(id, status) {
      failures.set(id, [...(failures.get(id) ?? []), status]);
    },
    holdBlocks: () => void (holding = true),
    waitForHeld: (n) =>
      held.length >= n ? Promise.resolve() : new Promise<void>((resolve) => heldWaiters.push({ n, resolve })),
    releaseAll() {
      holding = false;
      for (const h of held.splice(0)) h.release();
    },
    waitForClientAborts: (n) =>
      clientAborts >= n ? Promise.resolve() : new Promise<void>((resolve) => abortWaiters.push({ n, resolve })),
    close: () =>
      new Promise<void>((resolve) => {
        for (const h of held.splice(0)) h.release();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
