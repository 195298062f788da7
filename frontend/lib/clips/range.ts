// The clip editor's range: start and end in seconds, as typed into the fields or taken from the
// playhead, checked the way the server checks them (within the video, start before end, at least
// MIN_CLIP_SECONDS, at most the maximum clip length) so problems show next to the field at once.

/** The server's default CLIP_MAX_SECONDS; the server has the last word (its 422 is shown too). */
export const CLIP_MAX_SECONDS = 180;
export const MIN_CLIP_SECONDS = 0.5;
/** The length a new range gets when only its start is known. */
export const DEFAULT_CLIP_SECONDS = 10;

export interface RangeLimits {
  /** The video's probed duration; null while unknown. */
  duration: number | null;
  maxSeconds?: number;
}

/** The two fields' text, as typed. */
export interface RangeFields {
  start: string;
  end: string;
}

export interface RangeErrors {
  start?: string;
  end?: string;
}

/** Seconds to one decimal, the fields' step: 12.345 → 12.3. */
export function tenth(seconds: number): number {
  return Math.round(seconds * 10) / 10;
}

/** A field's text for a number of seconds: 12 → "12", 12.25 → "12.3". */
export function secondsText(seconds: number): string {
  return String(tenth(seconds));
}

/** A field's text as seconds; null when it is not a number. */
export function parseSeconds(text: string): number | null {
  const t = text.trim().replace(",", ".");
  if (t === "" || !/^[+-]?(\d+\.?\d*|\.\d+)$/.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

function words(seconds: number): string {
  return `${tenth(seconds)} s`;
}

/** The problems with a range, by field; empty when it can be sent. */
export function validateRange(fields: RangeFields, { duration, maxSeconds = CLIP_MAX_SECONDS }: RangeLimits): RangeErrors {
  const errors: RangeErrors = {};
  const start = parseSeconds(fields.start);
  const end = parseSeconds(fields.end);

  if (start === null) errors.start = "Enter the start in seconds, for example 12.5.";
  else if (start < 0) errors.start = "The start cannot be before 0 s.";
  else if (duration !== null && start >= duration) errors.start = `The start must be before the end of the video (${words(duration)}).`;

  if (end === null) errors.end = "Enter the end in seconds, for example 20.";
  else if (end <= 0) errors.end = "The end must be after 0 s.";
  else if (duration !== null && end > duration + 0.05) errors.end = `The end cannot be after the end of the video (${words(duration)}).`;
  else if (start !== null && !errors.start) {
    const length = end - start;
    if (length <= 0) errors.end = "The end must be after the start.";
    else if (length < MIN_CLIP_SECONDS - 1e-9) errors.end = `A clip must be at least ${MIN_CLIP_SECONDS} s long.`;
    else if (length > maxSeconds + 1e-9) errors.end = `A clip can be at most ${maxSeconds} s long (this one is ${words(length)}).`;
  }
  return errors;
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}

/**
 * "Set start" (key I) at the playhead. When the end no longer fits (not after the new start, or too
 * far from it), it moves to DEFAULT_CLIP_SECONDS after the start, within the video.
 */
export function setStartAt(fields: RangeFields, playhead: number, { duration, maxSeconds = CLIP_MAX_SECONDS }: RangeLimits): RangeFields {
  const start = tenth(clamp(playhead, 0, duration ?? Number.POSITIVE_INFINITY));
  const end = parseSeconds(fields.end);
  const fits = end !== null && end - start >= MIN_CLIP_SECONDS && end - start <= maxSeconds;
  if (fits) return { start: secondsText(start), end: fields.end };
  const newEnd = Math.min(start + Math.min(DEFAULT_CLIP_SECONDS, maxSeconds), duration ?? Number.POSITIVE_INFINITY);
  return { start: secondsText(start), end: secondsText(Math.floor(newEnd * 10) / 10) };
}

/**
 * "Set end" (key O) at the playhead. When the start no longer fits (not before the new end, or too
 * far from it), it moves to DEFAULT_CLIP_SECONDS before the end, not before 0.
 */
export function setEndAt(fields: RangeFields, playhead: number, { duration, maxSeconds = CLIP_MAX_SECONDS }: RangeLimits): RangeFields {
  const end = tenth(clamp(playhead, 0, duration ?? Number.POSITIVE_INFINITY));
  const start = parseSeconds(fields.start);
  const fits = start !== null && end - start >= MIN_CLIP_SECONDS && end - start <= maxSeconds;
  if (fits) return { start: fields.start, end: secondsText(end) };
  const newStart = Math.max(0, end - Math.min(DEFAULT_CLIP_SECONDS, maxSeconds));
  return { start: secondsText(Math.ceil(newStart * 10) / 10), end: secondsText(end) };
}

/** The range a fresh editor starts with: the first DEFAULT_CLIP_SECONDS (or the whole of a shorter video). */
export function initialRange(duration: number | null): RangeFields {
  if (duration === null) return { start: "0", end: "" };
  return { start: "0", end: secondsText(Math.floor(Math.min(duration, DEFAULT_CLIP_SECONDS) * 10) / 10) };
}

/**
 * Whether a key press belongs to a text field (so I and O type letters there): inputs that take
 * text, text areas, selects and editable content. Radios, checkboxes and buttons do not.
 */
export function isTextEntry(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target.closest("[contenteditable=''], [contenteditable=true]")) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag !== "INPUT") return false;
  const type = (target as HTMLInputElement).type;
  return !["button", "checkbox", "radio", "range", "submit", "reset", "file", "color", "image"].includes(type);
}

/** The editor's shortcut for a key press: "start" for I, "end" for O, null otherwise (or in a text field, or with a modifier). */
export function shortcutOf(e: Pick<KeyboardEvent, "key" | "ctrlKey" | "metaKey" | "altKey" | "target" | "defaultPrevented" | "repeat">): "start" | "end" | null {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.repeat) return null;
  if (isTextEntry(e.target)) return null;
  // A dialog (Delete clip?) has the keyboard: the editor behind it is not in play.
  if (e.target instanceof Element && e.target.closest("dialog")) return null;
  const k = e.key.toLowerCase();
  return k === "i" ? "start" : k === "o" ? "end" : null;
}
