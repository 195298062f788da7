// The content types createUpload accepts, and the file extensions that mean them (browsers leave
// File.type empty for some containers, e.g. .mkv on many systems).

const BY_EXTENSION: Record<string, string> = {
  mp4: "video/mp4",
  mov: "video/quicktime",
  qt: "video/quicktime",
  m4v: "video/x-m4v",
  "3gp": "video/3gpp",
  "3g2": "video/3gpp2",
  mkv: "video/x-matroska",
  webm: "video/webm",
  ts: "video/mp2t",
  mts: "video/mp2t",
  m2ts: "video/mp2t",
};

const ACCEPTED = new Set(Object.values(BY_EXTENSION));

/** The content type to declare for `file`, or null when the server would refuse it. */
export function videoContentType(file: { name: string; type: string }): string | null {
  const declared = file.type.toLowerCase();
  if (ACCEPTED.has(declared)) return declared;
  const ext = /\.([a-z0-9]+)$/i.exec(file.name)?.[1]?.toLowerCase();
  const byName = ext ? BY_EXTENSION[ext] : undefined;
  return byName ?? null;
}

/** For <input accept>: the types and extensions above. */
export const ACCEPT_ATTRIBUTE = [...ACCEPTED, ...Object.keys(BY_EXTENSION).map((e) => `.${e}`)].join(",");
