"use client";
// Loaded only when a ready video's player opens (next/dynamic in VideoCard), so the library's first
// load does not carry the editor.
import { useCallback, useState } from "react";
import type { Video } from "@/lib/api/types";
import { ClipEditor } from "./ClipEditor";
import { ClipList } from "./ClipList";
import { useClips } from "./useClips";

export interface ClipStudioProps {
  video: Video;
  videoRef: React.RefObject<HTMLVideoElement | null>;
}

/** The clip editor and the video's clips, with one polite live region for both. */
export default function ClipStudio({ video, videoRef }: ClipStudioProps) {
  const clips = useClips(video.id);
  const [announcement, setAnnouncement] = useState("");
  const announce = useCallback((text: string) => setAnnouncement(text), []);

  return (
    <div className="flex min-w-0 flex-col gap-6 border-t border-line p-4 lg:border-t-0 lg:border-l">
      <p aria-live="polite" className="sr-only">
        {announcement}
      </p>
      <ClipEditor video={video} videoRef={videoRef} onCreated={clips.add} announce={announce} />
      <ClipList clips={clips} announce={announce} />
    </div>
  );
}
