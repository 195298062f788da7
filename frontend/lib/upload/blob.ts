// The wire to Blob Storage: Put Block and Put Block List through a SAS upload URL, with
// XMLHttpRequest. XHR rather than fetch because it reports upload progress per byte (fetch has no
// upload progress in browsers without streaming request bodies), and rather than @azure/storage-blob
// because these two calls are all we need: the SDK's browser bundle (its HTTP pipeline, XML parser,
// retry policy) would weigh more than the rest of the upload page, its uploadData/uploadBrowserData
// pick random block ids (no resume after a reload), and with stageBlock we would still write the
// planner, the retries around 403 + renew, and the progress across blocks ourselves. Never through the
// `api` Axios instance: storage must not see the Authorization header.

import { BlobRequestError, abortError } from "./errors";

export { BlobRequestError, abortError, isAbortError } from "./errors";

export interface SendOptions {
  signal?: AbortSignal;
  /** Bytes of the body sent so far, as the browser reports them. */
  onProgress?: (loaded: number) => void;
  /** Abort and fail (retryably) when nothing moves for this long: a dead connection never errors. */
  stallMs?: number;
}

/** `<upload_url>&name=value...`, appended as text so the SAS signature in the URL is kept byte for byte. */
export function withQuery(url: string, params: Record<string, string>): string {
  const query = Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join("&");
  return url + (url.includes("?") ? "&" : "?") + query;
}

export function putBlock(uploadUrl: string, id: string, body: Blob, opts: SendOptions = {}): Promise<void> {
  return send(withQuery(uploadUrl, { comp: "block", blockid: id }), body, {}, opts);
}

export function putBlockList(uploadUrl: string, xml: string, contentType: string, opts: SendOptions = {}): Promise<void> {
  return send(
    withQuery(uploadUrl, { comp: "blocklist" }),
    xml,
    { "Content-Type": "application/xml; charset=utf-8", "x-ms-blob-content-type": contentType },
    opts,
  );
}

function errorCode(xhr: XMLHttpRequest): string {
  const header = safeHeader(xhr, "x-ms-error-code");
  if (header) return header;
  const match = /<Code>([^<]+)<\/Code>/.exec(typeof xhr.responseText === "string" ? xhr.responseText : "");
  return match?.[1] ?? `http_${xhr.status}`;
}

function safeHeader(xhr: XMLHttpRequest, name: string): string | null {
  try {
    return xhr.getResponseHeader(name);
  } catch {
    return null;
  }
}

function send(url: string, body: Blob | string, headers: Record<string, string>, opts: SendOptions): Promise<void> {
  const { signal, onProgress, stallMs = 60_000 } = opts;
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError());
      return;
    }
    const xhr = new XMLHttpRequest();
    let settled = false;
    let stallTimer: ReturnType<typeof setTimeout> | undefined;
    let stalled = false;

    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(stallTimer);
      signal?.removeEventListener("abort", onAbort);
      if (err === undefined) resolve();
      else reject(err);
    };
    const armStall = () => {
      clearTimeout(stallTimer);
      stallTimer = setTimeout(() => {
        stalled = true;
        xhr.abort();
      }, stallMs);
    };
    function onAbort() {
      xhr.abort();
    }

    xhr.open("PUT", url);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      armStall();
      onProgress?.(e.loaded);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) finish();
      else finish(new BlobRequestError(xhr.status, errorCode(xhr)));
    };
    xhr.onerror = () => finish(new BlobRequestError(0, "network_error", "The connection to Blob Storage failed."));
    xhr.onabort = () =>
      finish(stalled ? new BlobRequestError(0, "stalled", "The upload stalled: nothing moved for a minute.") : abortError());
    signal?.addEventListener("abort", onAbort);
    armStall();
    xhr.send(body);
  });
}
