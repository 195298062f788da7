"use client";

import { Suspense } from "react";
import { VideoLibrary, VideoLibrarySkeleton } from "@/components/videos/VideoLibrary";

export default function LibraryPage() {
  return (
    <div className="mx-auto w-full max-w-6xl">
      {/* useSearchParams (?video=<id>) needs a Suspense boundary in a static export. */}
      <Suspense fallback={<VideoLibrarySkeleton />}>
        <VideoLibrary />
      </Suspense>
    </div>
  );
}
