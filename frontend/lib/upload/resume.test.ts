import { beforeEach, describe, expect, it } from "vitest";
import { videoContentType } from "./contentType";
import { fingerprint, localResumeStore } from "./resume";

const file = { name: "clip.mp4", size: 123, lastModified: 1_700_000_000_000, type: "video/mp4" };

describe("fingerprint", () => {
  it("changes with the name, size, modification time or type", () => {
    const fp = fingerprint(file);
    expect(fingerprint({ ...file })).toBe(fp);
    for (const other of [{ name: "b.mp4" }, { size: 124 }, { lastModified: 1 }, { type: "video/webm" }]) {
      expect(fingerprint({ ...file, ...other })).not.toBe(fp);
    }
  });
});

describe("localResumeStore", () => {
  beforeEach(() => localStorage.clear());

  it("remembers the video of a file across store instances (a reload), and forgets on delete", () => {
    localResumeStore().set(fingerprint(file), "v1");
    const again = localResumeStore();
    expect(again.get(fingerprint(file))).toBe("v1");
    again.delete(fingerprint(file));
    expect(localResumeStore().get(fingerprint(file))).toBeNull();
    expect(localStorage.length).toBe(0);
  });

  it("drops entries older than Blob Storage keeps uncommitted blocks", () => {
    let now = 0;
    const store = localResumeStore(() => now);
    store.set(fingerprint(file), "v1");
    now = 6 * 24 * 3600 * 1000 + 1;
    expect(store.get(fingerprint(file))).toBeNull();
  });

  it("survives garbage in storage", () => {
    localStorage.setItem("videofn.uploads.v1", "{not json");
    expect(localResumeStore().get(fingerprint(file))).toBeNull();
    localResumeStore().set(fingerprint(file), "v2");
    expect(localResumeStore().get(fingerprint(file))).toBe("v2");
  });
});

describe("videoContentType", () => {
  it("keeps a declared video type the server accepts", () => {
    expect(videoContentType({ name: "a.mov", type: "video/quicktime" })).toBe("video/quicktime");
  });
  it("falls back on the extension when the browser gives no type", () => {
    expect(videoContentType({ name: "a.MKV", type: "" })).toBe("video/x-matroska");
    expect(videoContentType({ name: "a.ts", type: "" })).toBe("video/mp2t");
  });
  it("refuses what is not a video", () => {
    expect(videoContentType({ name: "notes.txt", type: "text/plain" })).toBeNull();
    expect(videoContentType({ name: "noext", type: "" })).toBeNull();
  });
});
