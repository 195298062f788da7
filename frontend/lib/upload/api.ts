// The upload routes of our API (through the one Axios instance), shaped as the UploadApi that
// uploadFile takes. Errors become UploadApiError with a sentence for people.
import { api, describeError, toApiError } from "@/lib/axios";
import type { Upload, Video, VideoResponse } from "@/lib/api/types";
import { UploadApiError, type StagedUpload, type UploadApi } from "./session";

function wrap(err: unknown): UploadApiError {
  const e = toApiError(err);
  return new UploadApiError(e.status, e.code, describeError(e));
}

async function call<T>(run: () => Promise<{ data: T }>): Promise<T> {
  try {
    return (await run()).data;
  } catch (err) {
    throw wrap(err);
  }
}

/** Transient answers (no answer, 503, 429) are worth one more try for the idempotent calls. */
async function idempotent<T>(run: () => Promise<T>, tries = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const transient = err instanceof UploadApiError && (err.status === 0 || err.status === 503 || err.status === 429);
      if (!transient || err.code === "canceled" || attempt >= tries) throw err;
      await new Promise((r) => setTimeout(r, 1000 * attempt));
    }
  }
}

export const uploadApi: UploadApi = {
  create: (body) => call(() => api.post<Upload>("/uploads", body)),
  async staged(videoId) {
    try {
      return await call(() => api.get<StagedUpload>(`/uploads/${encodeURIComponent(videoId)}`));
    } catch (err) {
      if (err instanceof UploadApiError && (err.status === 404 || err.status === 409)) return null;
      throw err;
    }
  },
  renew: (videoId) => idempotent(() => call(() => api.post<Upload>(`/uploads/${encodeURIComponent(videoId)}/renew`))),
  complete: async (videoId): Promise<Video> =>
    (await idempotent(() => call(() => api.post<VideoResponse>(`/uploads/${encodeURIComponent(videoId)}/complete`)))).video,
};

/** Removes a video (a cancelled upload's pending row); 204 also when it is already gone. */
export async function deleteVideo(videoId: string): Promise<void> {
  await call(() => api.delete(`/videos/${encodeURIComponent(videoId)}`));
}
