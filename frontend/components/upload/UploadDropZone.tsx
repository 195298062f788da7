"use client";

import { useRef, useState, type DragEvent } from "react";
import { cx } from "@/components/ui";
import { ACCEPT_ATTRIBUTE } from "@/lib/upload/contentType";

export interface UploadDropZoneProps {
  onFiles: (files: File[]) => void;
}

/** A file picker ("Choose video files") that is also a drop target for files dragged onto the page. */
export function UploadDropZone({ onFiles }: UploadDropZoneProps) {
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  // dragenter/dragleave fire for every child crossed: count them so the highlight does not flicker.
  const depth = useRef(0);

  const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer.types).includes("Files");

  return (
    <div
      onDragEnter={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        depth.current++;
        setOver(true);
      }}
      onDragOver={(e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = "copy";
      }}
      onDragLeave={() => {
        depth.current = Math.max(0, depth.current - 1);
        if (depth.current === 0) setOver(false);
      }}
      onDrop={(e) => {
        e.preventDefault();
        depth.current = 0;
        setOver(false);
        const files = Array.from(e.dataTransfer.files);
        if (files.length > 0) onFiles(files);
      }}
      className={cx(
        "flex flex-col items-center justify-center gap-3 rounded-[var(--radius-card)] border-2 border-dashed px-4 py-10 text-center transition-colors sm:py-14",
        over ? "border-accent bg-accent/10" : "border-line bg-surface",
      )}
    >
      <svg aria-hidden="true" viewBox="0 0 24 24" className="size-10 fill-none stroke-muted" strokeWidth="1.5">
        <path d="M12 15V4m0 0-4 4m4-4 4 4M5 14v4a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2v-4" strokeLinecap="round" strokeLinejoin="round" />
      </svg>
      <p className="text-base font-medium text-ink">{over ? "Drop to upload" : "Drag video files here"}</p>
      <p className="text-sm text-muted">or</p>
      <input
        ref={input}
        id="upload-files"
        type="file"
        multiple
        accept={ACCEPT_ATTRIBUTE}
        className="peer sr-only"
        onChange={(e) => {
          const files = Array.from(e.target.files ?? []);
          if (files.length > 0) onFiles(files);
          e.target.value = ""; // choosing the same file again (to resume) must fire change again
        }}
      />
      <label
        htmlFor="upload-files"
        className="inline-flex h-10 cursor-pointer items-center rounded-lg bg-accent px-4 text-sm font-medium text-accent-ink shadow-sm hover:bg-accent-strong peer-focus-visible:outline-2 peer-focus-visible:outline-offset-2 peer-focus-visible:outline-accent-strong"
      >
        Choose video files
      </label>
      <p className="max-w-sm text-xs text-muted">
        MP4, MOV, M4V, 3GP, MKV, WebM or MPEG-TS. Choosing a file again after a reload continues its upload where it stopped.
      </p>
    </div>
  );
}
