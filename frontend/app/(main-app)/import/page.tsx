"use client";

import { ImportForm } from "@/components/import/ImportForm";

export default function ImportPage() {
  return (
    <div className="mx-auto flex w-full max-w-3xl flex-col gap-6">
      <header className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Import from a link</h1>
        <p className="text-sm text-muted">
          We fetch the video on our side, so you can close this page: the import goes on and shows up in your library.
        </p>
      </header>
      <ImportForm />
    </div>
  );
}
