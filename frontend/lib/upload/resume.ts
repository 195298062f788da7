// Remembers which video a file was being uploaded to, so that choosing the same file again after a
// reload continues from the blocks already staged. Key: the file's fingerprint (name, size,
// lastModified, type); value: the video id. Not a secret (tokens never go to web storage).

const STORAGE_KEY = "videofn.uploads.v1";
/** Blob Storage drops uncommitted blocks after 7 days; an older entry cannot resume. */
const MAX_AGE_MS = 6 * 24 * 3600 * 1000;

export interface FileLike {
  name: string;
  size: number;
  lastModified: number;
  type: string;
}

export function fingerprint(file: FileLike): string {
  return JSON.stringify([file.name, file.size, file.lastModified, file.type]);
}

export interface ResumeStore {
  get(fp: string): string | null;
  set(fp: string, videoId: string): void;
  delete(fp: string): void;
}

interface Entry {
  video_id: string;
  saved_at: number;
}

function storage(): Storage | null {
  try {
    return typeof window === "undefined" ? null : window.localStorage;
  } catch {
    return null; // storage disabled: uploads work, they just cannot resume after a reload
  }
}

function readAll(s: Storage): Record<string, Entry> {
  try {
    const parsed: unknown = JSON.parse(s.getItem(STORAGE_KEY) ?? "{}");
    return parsed && typeof parsed === "object" ? (parsed as Record<string, Entry>) : {};
  } catch {
    return {};
  }
}

function writeAll(s: Storage, entries: Record<string, Entry>): void {
  try {
    if (Object.keys(entries).length === 0) s.removeItem(STORAGE_KEY);
    else s.setItem(STORAGE_KEY, JSON.stringify(entries));
  } catch {
    // quota or privacy mode: resume is a convenience
  }
}

/** The ResumeStore on localStorage, dropping entries too old to resume. */
export function localResumeStore(now: () => number = Date.now): ResumeStore {
  return {
    get(fp) {
      const s = storage();
      if (!s) return null;
      const entry = readAll(s)[fp];
      if (!entry || typeof entry.video_id !== "string") return null;
      if (now() - entry.saved_at > MAX_AGE_MS) {
        this.delete(fp);
        return null;
      }
      return entry.video_id;
    },
    set(fp, videoId) {
      const s = storage();
      if (!s) return;
      const all = readAll(s);
      for (const [k, e] of Object.entries(all)) if (now() - e.saved_at > MAX_AGE_MS) delete all[k];
      all[fp] = { video_id: videoId, saved_at: now() };
      writeAll(s, all);
    },
    delete(fp) {
      const s = storage();
      if (!s) return;
      const all = readAll(s);
      if (!(fp in all)) return;
      delete all[fp];
      writeAll(s, all);
    },
  };
}
