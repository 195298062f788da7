// Sends a file's blocks straight to Blob Storage through its SAS upload URL, then commits the block
// list. Several blocks in flight, failed blocks retried alone with exponential backoff and jitter,
// the URL renewed before it expires (and after a 403), cancel through an AbortSignal. Blocks are
// read lazily with Blob.slice when their request starts, so memory stays flat whatever the file size:
// the browser streams each slice from disk.

import { BlobRequestError, abortError, isAbortError, putBlock, putBlockList } from "./blob";
import { blockListXml, type PlannedBlock } from "./blocks";

export interface UploadTarget {
  url: string;
  /** When `url` stops working, in ms since the epoch. */
  expiresAt: number;
}

export interface TransferOptions {
  file: Blob;
  /** Every block of the file, in order (the block list commits all of them). */
  plan: readonly PlannedBlock[];
  /** The blocks to send: all of `plan`, or fewer when resuming. */
  toSend: readonly PlannedBlock[];
  /** Stored on the blob at commit (x-ms-blob-content-type). */
  contentType: string;
  target: UploadTarget;
  /** A fresh URL for the same blob (POST /api/uploads/{id}/renew). */
  renew: () => Promise<UploadTarget>;
  signal?: AbortSignal;
  /** Bytes of the file acknowledged or in flight (blocks not sent count as sent), on every change. */
  onProgress?: (sentBytes: number) => void;
  /** Blocks in flight at once. */
  concurrency?: number;
  /** Tries per request, the first included. */
  maxAttempts?: number;
  /** Renew this long before `expiresAt`, so no block starts on a URL about to expire. */
  renewMarginMs?: number;
  /** Delay before try `attempt + 1` (attempt >= 1). */
  retryDelay?: (attempt: number) => number;
  stallMs?: number;
  now?: () => number;
}

export const DEFAULT_CONCURRENCY = 4;
export const DEFAULT_MAX_ATTEMPTS = 6;
const MAX_AUTH_RENEWALS = 2;

/** Exponential backoff with equal jitter: half the step fixed, half random; 0.5 s, 1 s, 2 s ... capped at 15 s. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const step = Math.min(15_000, 500 * 2 ** Math.max(0, attempt - 1));
  return step / 2 + random() * (step / 2);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError());
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    function onAbort() {
      clearTimeout(timer);
      reject(abortError());
    }
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

export async function transferBlocks(opts: TransferOptions): Promise<void> {
  const {
    file,
    plan,
    toSend,
    contentType,
    renew,
    onProgress,
    concurrency = DEFAULT_CONCURRENCY,
    maxAttempts = DEFAULT_MAX_ATTEMPTS,
    renewMarginMs = 120_000,
    retryDelay = (n: number) => backoffDelay(n),
    stallMs,
    now = Date.now,
  } = opts;

  // One controller for the whole transfer: the caller's cancel, or the first fatal error, stops every request.
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort();
  if (opts.signal?.aborted) throw abortError();
  opts.signal?.addEventListener("abort", onOuterAbort);
  const signal = controller.signal;

  let target = opts.target;
  let renewing: Promise<UploadTarget> | null = null;
  /** Renews once for every caller that saw `seenUrl` fail or near expiry; later callers get the new URL. */
  const renewFrom = async (seenUrl: string): Promise<string> => {
    if (target.url !== seenUrl) return target.url;
    if (!renewing) {
      renewing = renew().then(
        (t) => {
          target = t;
          renewing = null;
          return t;
        },
        (err: unknown) => {
          renewing = null;
          throw err;
        },
      );
    }
    return (await renewing).url;
  };
  const currentUrl = async (): Promise<string> => {
    if (renewing) return (await renewing).url;
    if (now() >= target.expiresAt - renewMarginMs) return renewFrom(target.url);
    return target.url;
  };

  const sendSet = new Set(toSend.map((b) => b.index));
  let done = plan.reduce((sum, b) => (sendSet.has(b.index) ? sum : sum + b.size), 0);
  const inFlight = new Map<number, number>();
  const report = () => {
    let sent = done;
    for (const loaded of inFlight.values()) sent += loaded;
    onProgress?.(sent);
  };

  /** One request with retries: transient failures back off, auth failures renew the URL first. */
  const withRetries = async (run: (url: string) => Promise<void>, onRetry?: () => void): Promise<void> => {
    let authRenewals = 0;
    for (let attempt = 1; ; attempt++) {
      const url = await currentUrl();
      try {
        await run(url);
        return;
      } catch (err) {
        if (signal.aborted || isAbortError(err)) throw abortError();
        if (!(err instanceof BlobRequestError)) throw err;
        onRetry?.();
        if (err.authFailure && authRenewals < MAX_AUTH_RENEWALS) {
          authRenewals++;
          await renewFrom(url);
          continue; // a refused SAS is not the network's fault: no backoff, no attempt spent
        }
        if (!err.retryable || attempt >= maxAttempts) throw err;
        await sleep(retryDelay(attempt), signal);
      }
    }
  };

  const queue = [...toSend];
  let firstError: unknown = null;
  const worker = async () => {
    try {
      await drain();
    } catch (err) {
      // The first real failure stops the other workers; their AbortErrors are not the story.
      if (firstError === null) firstError = err;
      controller.abort();
    }
  };
  const drain = async () => {
    for (let block = queue.shift(); block; block = queue.shift()) {
      const b = block;
      await withRetries(
        (url) =>
          putBlock(url, b.id, file.slice(b.start, b.end), {
            signal,
            stallMs,
            onProgress: (loaded) => {
              inFlight.set(b.index, Math.min(loaded, b.size));
              report();
            },
          }),
        () => {
          inFlight.delete(b.index);
          report();
        },
      );
      inFlight.delete(b.index);
      done += b.size;
      report();
    }
  };

  try {
    report();
    const workers = Array.from({ length: Math.max(1, Math.min(concurrency, toSend.length)) }, worker);
    await Promise.all(workers);
    if (firstError !== null) throw firstError;
    const xml = blockListXml(plan);
    await withRetries((url) => putBlockList(url, xml, contentType, { signal, stallMs }));
  } catch (err) {
    controller.abort();
    throw err;
  } finally {
    opts.signal?.removeEventListener("abort", onOuterAbort);
  }
}
