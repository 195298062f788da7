"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import { Alert, Spinner } from "@/components/ui";
import { api, describeError, toApiError } from "@/lib/axios";
import type { VideoResponse } from "@/lib/api/types";

async function playbackUrl(id: string, signal?: AbortSignal): Promise<string> {
  const { data } = await api.get<VideoResponse>(`/videos/${encodeURIComponent(id)}`, { signal });
  if (!data.video.playback_url) throw new Error("This video cannot be played yet.");
  return data.video.playback_url;
}

export interface VideoPlayerProps {
  videoId: string;
  title: string;
  /** Receives the <video> element (the clip editor reads the playhead from it). */
  videoRef?: React.RefObject<HTMLVideoElement | null>;
  /** Shown before playback starts (the poster frame). */
  poster?: string;
}

/** Plays a ready video (GET /api/videos/{id} gives its read URL). */
export function VideoPlayer({ videoId, title, videoRef, poster }: VideoPlayerProps) {
  const load = useCallback((signal?: AbortSignal) => playbackUrl(videoId, signal), [videoId]);
  return <MediaPlayer load={load} label={title} videoRef={videoRef} poster={poster} />;
}

export interface MediaPlayerProps {
  /** Fetches a fresh read URL; called once at the start and once more when one has expired. */
  load: (signal?: AbortSignal) => Promise<string>;
  /** The <video>'s accessible name. */
  label: string;
  videoRef?: React.RefObject<HTMLVideoElement | null>;
  poster?: string;
  /** The box's proportions (Tailwind class); 16:9 unless told. */
  boxClassName?: string;
}

/**
 * Plays media from a short-lived read URL. When the URL has expired (storage refuses the next range
 * request: a media error), it fetches a fresh one once and carries on at the same time.
 */
export function MediaPlayer({ load, label, videoRef, poster, boxClassName = "aspect-video w-full" }: MediaPlayerProps) {
  const ref = useRef<HTMLVideoElement>(null);
  const [src, setSrc] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** Set while a fresh URL replaces an expired one: where to carry on, and whether it was playing. */
  const resume = useRef<{ time: number; playing: boolean } | null>(null);
  const refreshed = useRef(false);
  const fetching = useRef(false);

  useEffect(() => {
    const controller = new AbortController();
    load(controller.signal).then(setSrc, (err: unknown) => {
      if (!controller.signal.aborted) setError(describeError(toApiError(err)));
    });
    return () => controller.abort();
  }, [load]);

  const onError = useCallback(async () => {
    const el = ref.current;
    if (!el || fetching.current) return;
    if (refreshed.current) {
      resume.current = null;
      setError("The video could not be played. Reload the page to try again.");
      return;
    }
    refreshed.current = true;
    fetching.current = true;
    resume.current = { time: el.currentTime, playing: !el.paused || el.autoplay };
    try {
      setSrc(await load());
    } catch (err) {
      resume.current = null;
      setError(describeError(toApiError(err)));
    } finally {
      fetching.current = false;
    }
  }, [load]);

  const setRefs = useCallback(
    (el: HTMLVideoElement | null) => {
      ref.current = el;
      if (videoRef) videoRef.current = el;
    },
    [videoRef],
  );

  const onLoadedMetadata = () => {
    const el = ref.current;
    const at = resume.current;
    if (!el || !at) return;
    resume.current = null;
    el.currentTime = at.time;
    // Autoplay rules may refuse; the controls are there.
    if (at.playing) Promise.resolve(el.play()).catch(() => undefined);
  };

  return (
    <div className={`relative overflow-hidden bg-black ${boxClassName}`}>
      {src ? (
        <video
          ref={setRefs}
          src={src}
          controls
          autoPlay
          playsInline
          preload="auto"
          poster={poster}
          aria-label={label}
          className="size-full"
          onError={() => void onError()}
          onLoadedMetadata={onLoadedMetadata}
          // A URL that worked may expire later again: allow one more refresh after each success.
          onPlaying={() => {
            if (!resume.current) refreshed.current = false;
          }}
        />
      ) : (
        !error && (
          <div className="grid size-full place-items-center text-muted">
            <Spinner size="lg" label="Loading the video" />
          </div>
        )
      )}
      {error && (
        <div className="absolute inset-0 grid place-items-center p-4">
          <Alert tone="error">{error}</Alert>
        </div>
      )}
    </div>
  );
}
