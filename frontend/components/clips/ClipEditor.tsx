"use client";

import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { Alert, Button, TextField, cx } from "@/components/ui";
import { api, toApiError } from "@/lib/axios";
import type { Clip, ClipAspect, ClipResponse, CreateClipRequest, Video } from "@/lib/api/types";
import {
  CLIP_MAX_SECONDS,
  initialRange,
  parseSeconds,
  setEndAt,
  setStartAt,
  shortcutOf,
  validateRange,
  type RangeErrors,
  type RangeFields,
} from "@/lib/clips/range";
import { formatDuration } from "@/lib/format";
import { ASPECT_WORDS, createClipError, fieldProblem } from "./clipWords";

export interface ClipEditorProps {
  video: Video;
  /** The player's <video>: the playhead for Set start/Set end, and the preview. */
  videoRef: React.RefObject<HTMLVideoElement | null>;
  onCreated: (clip: Clip) => void;
  /** Says something in the page's polite live region. */
  announce: (text: string) => void;
  maxSeconds?: number;
}

interface ServerErrors extends RangeErrors {
  title?: string;
}

const ASPECTS: ClipAspect[] = ["original", "9:16"];

/** Why clips cannot be made from this video yet (or at all); null when they can. */
function blockedReason(video: Video): string | null {
  if (video.processing_status === "pending" || video.processing_status === "processing") {
    return "Clips can be made once this video has been processed. Processing…";
  }
  if (video.processing_status === "failed") return "This video couldn't be read, so clips cannot be made from it.";
  return null;
}

/**
 * The clip editor on a ready video's player: the range from the playhead (buttons, keys I and O
 * outside text fields) or typed in seconds, checked as the server checks it; the aspect; a preview
 * that plays the range; and Create clip (POST /api/videos/{id}/clips).
 */
export function ClipEditor({ video, videoRef, onCreated, announce, maxSeconds = CLIP_MAX_SECONDS }: ClipEditorProps) {
  const headingId = useId();
  const aspectId = useId();
  const duration = video.duration_seconds;
  const limits = { duration, maxSeconds };
  const [range, setRange] = useState<RangeFields>(() => initialRange(duration));
  // The duration can arrive while the editor is open (processing finished): fill an empty end then.
  const [rangeFor, setRangeFor] = useState(duration);
  if (rangeFor !== duration) {
    setRangeFor(duration);
    if (range.end === "") setRange(initialRange(duration));
  }
  const [aspect, setAspect] = useState<ClipAspect>("original");
  const [title, setTitle] = useState("");
  const [touched, setTouched] = useState<{ start: boolean; end: boolean }>({ start: false, end: false });
  const [submitted, setSubmitted] = useState(false);
  const [server, setServer] = useState<ServerErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const stopPreview = useRef<(() => void) | null>(null);
  const form = useRef<HTMLFormElement>(null);
  /** Set when a refused submit should take the keyboard to the first field with a problem. */
  const focusProblem = useRef(false);
  useEffect(() => {
    if (!focusProblem.current) return;
    focusProblem.current = false;
    form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  });
  const blocked = blockedReason(video);

  const errors = validateRange(range, limits);
  const startError = (touched.start || submitted ? errors.start : undefined) ?? server.start;
  const endError = (touched.end || submitted ? errors.end : undefined) ?? server.end;

  const edit = (next: RangeFields) => {
    setRange(next);
    setServer((s) => ({ title: s.title }));
    setFormError(null);
  };

  const markAt = (which: "start" | "end") => {
    const el = videoRef.current;
    if (!el) return;
    const next = which === "start" ? setStartAt(range, el.currentTime, limits) : setEndAt(range, el.currentTime, limits);
    edit(next);
    setTouched({ start: true, end: true });
    announce(`Clip from ${next.start} s to ${next.end} s.`);
  };

  // The key handler is registered once and calls the latest markAt.
  const markRef = useRef(markAt);
  useEffect(() => {
    markRef.current = markAt;
  });

  useEffect(() => {
    if (blocked) return;
    const onKey = (e: KeyboardEvent) => {
      const which = shortcutOf(e);
      if (!which || !videoRef.current) return;
      e.preventDefault();
      markRef.current(which);
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [blocked, videoRef]);

  useEffect(() => () => stopPreview.current?.(), []);

  const preview = () => {
    setSubmitted(true);
    const el = videoRef.current;
    const start = parseSeconds(range.start);
    const end = parseSeconds(range.end);
    if (!el || start === null || end === null || errors.start || errors.end) return;
    stopPreview.current?.();
    let frame = 0;
    const check = () => {
      if (el.currentTime >= end) {
        stop();
        el.pause();
      }
    };
    const loop = () => {
      check();
      if (stopPreview.current === stop) frame = requestAnimationFrame(loop);
    };
    const stop = () => {
      cancelAnimationFrame(frame);
      el.removeEventListener("timeupdate", check);
      el.removeEventListener("pause", stop);
      if (stopPreview.current === stop) stopPreview.current = null;
    };
    stopPreview.current = stop;
    el.currentTime = start;
    el.addEventListener("timeupdate", check);
    Promise.resolve(el.play()).then(
      () => {
        if (stopPreview.current !== stop) return;
        el.addEventListener("pause", stop);
        frame = requestAnimationFrame(loop);
      },
      () => stop(),
    );
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setSubmitted(true);
    setFormError(null);
    setServer({});
    const start = parseSeconds(range.start);
    const end = parseSeconds(range.end);
    if (start === null || end === null || errors.start || errors.end) {
      focusProblem.current = true;
      return;
    }
    const body: CreateClipRequest = {
      title: title.trim() || `${video.title} ${formatDuration(start)}–${formatDuration(end)}`,
      start_seconds: start,
      end_seconds: end,
      aspect,
    };
    setBusy(true);
    try {
      const { data } = await api.post<ClipResponse>(`/videos/${encodeURIComponent(video.id)}/clips`, body);
      onCreated(data.clip);
      announce(`Clip “${data.clip.title}” is queued.`);
      setTitle("");
      setSubmitted(false);
    } catch (err) {
      const apiErr = toApiError(err);
      const { start_seconds: start, end_seconds: end, title: titleProblem, ...others } = apiErr.fields;
      const mapped: ServerErrors = {
        start: fieldProblem(start, "The start"),
        end: fieldProblem(end, "The end"),
        title: fieldProblem(titleProblem, "The title"),
      };
      setServer(mapped);
      focusProblem.current = true;
      // Problems with no field of their own (the aspect, anything new) go in the form's alert.
      const rest = Object.entries(others).map(([k, v]) => fieldProblem(v, k === "aspect" ? "The aspect" : `The ${k.replaceAll("_", " ")}`));
      const anyField = mapped.start || mapped.end || mapped.title;
      setFormError(rest.length > 0 ? rest.join(" ") : anyField ? null : createClipError(apiErr));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby={headingId} className="flex flex-col gap-4">
      <div className="space-y-1">
        <h3 id={headingId} className="font-semibold text-ink">
          Clip editor
        </h3>
        <p className="text-xs text-muted">
          Pause where the clip should start and press <kbd className="rounded border border-line px-1">I</kbd> (or Set start),
          then where it should end and press <kbd className="rounded border border-line px-1">O</kbd> (or Set end).
          {duration !== null && <> The video is {formatDuration(duration)} long;</>} a clip is {maxSeconds} s at most.
        </p>
      </div>

      {blocked && <Alert tone="info">{blocked}</Alert>}

      <form ref={form} noValidate onSubmit={(e) => void submit(e)} className="flex flex-col gap-4">
        <fieldset disabled={blocked !== null || busy} className="flex min-w-0 flex-col gap-4">
          <div className="flex flex-wrap gap-2">
            <Button size="sm" variant="secondary" onClick={() => markAt("start")} aria-keyshortcuts="I">
              Set start
            </Button>
            <Button size="sm" variant="secondary" onClick={() => markAt("end")} aria-keyshortcuts="O">
              Set end
            </Button>
          </div>

          <div className="grid grid-cols-2 gap-3">
            <TextField
              label="Start (seconds)"
              type="number"
              inputMode="decimal"
              step={0.1}
              min={0}
              max={duration ?? undefined}
              value={range.start}
              error={startError}
              onChange={(e) => edit({ ...range, start: e.target.value })}
              onBlur={() => setTouched((t) => ({ ...t, start: true }))}
            />
            <TextField
              label="End (seconds)"
              type="number"
              inputMode="decimal"
              step={0.1}
              min={0}
              max={duration ?? undefined}
              value={range.end}
              error={endError}
              onChange={(e) => edit({ ...range, end: e.target.value })}
              onBlur={() => setTouched((t) => ({ ...t, end: true }))}
            />
          </div>

          <fieldset role="radiogroup" aria-labelledby={aspectId} className="flex min-w-0 flex-col gap-1.5">
            <legend id={aspectId} className="mb-1.5 text-sm font-medium text-ink">
              Aspect
            </legend>
            <div className="flex flex-wrap gap-2">
              {ASPECTS.map((a) => (
                <label
                  key={a}
                  className={cx(
                    "flex h-9 cursor-pointer items-center gap-2 rounded-lg border px-3 text-sm transition-colors",
                    "has-checked:border-accent has-checked:bg-accent/15 has-checked:text-ink",
                    "has-focus-visible:outline-2 has-focus-visible:outline-offset-2 has-focus-visible:outline-accent-strong",
                    "border-line text-muted hover:border-muted/60",
                  )}
                >
                  <input
                    type="radio"
                    name={`aspect${aspectId}`}
                    value={a}
                    checked={aspect === a}
                    onChange={() => setAspect(a)}
                    className="accent-[var(--color-accent)]"
                  />
                  {ASPECT_WORDS[a]}
                </label>
              ))}
            </div>
          </fieldset>

          <TextField
            label="Clip title"
            value={title}
            maxLength={200}
            error={server.title}
            hint="Leave it empty to name the clip after the video and its range."
            onChange={(e) => {
              setTitle(e.target.value);
              setServer((s) => ({ ...s, title: undefined }));
            }}
          />

          {formError && <Alert tone="error">{formError}</Alert>}

          <div className="flex flex-wrap gap-2">
            <Button variant="secondary" onClick={preview}>
              Preview clip
            </Button>
            <Button type="submit" loading={busy}>
              Create clip
            </Button>
          </div>
        </fieldset>
      </form>
    </section>
  );
}
