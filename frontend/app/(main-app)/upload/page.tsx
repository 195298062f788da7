"use client";

import { UploadQueue } from "@/components/upload/UploadQueue";

export default function UploadPage() {
  return (
    <div className="mx-auto flex w-full max-w-3xl flex-col gap-6">
      <header className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Upload videos</h1>
        <p className="text-sm text-muted">
          Files go straight to storage in blocks, several at a time. You can keep using the app while they upload.
        </p>
      </header>
      <UploadQueue />
    </div>
  );
}
