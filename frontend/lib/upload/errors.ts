// The errors an upload can end with, apart from the code that raises them, so that the store (loaded
// by every page that shows uploads) does not pull in the uploader itself.

/** A failed storage request. `status` 0 means the request never got an answer (network, stall). */
export class BlobRequestError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message?: string) {
    super(message ?? `Blob Storage answered ${status} ${code}`);
    this.name = "BlobRequestError";
    this.status = status;
    this.code = code;
  }
  /** Worth sending again unchanged: no answer, a timeout, throttling or a server error. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
  /** The SAS was refused (expired or otherwise): a renewed URL may succeed. */
  get authFailure(): boolean {
    return this.status === 403 || this.status === 401;
  }
}

/** The error a cancelled request rejects with (same name as fetch's, so callers check one thing). */
export function abortError(): DOMException {
  return new DOMException("The upload was cancelled.", "AbortError");
}

export function isAbortError(err: unknown): boolean {
  return err instanceof DOMException ? err.name === "AbortError" : err instanceof Error && err.name === "AbortError";
}

/** An API call of the upload that failed; `message` is in words for the person uploading. */
export class UploadApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "UploadApiError";
    this.status = status;
    this.code = code;
  }
}

