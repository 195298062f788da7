"use client";

import { useState, type FormEvent } from "react";
import { Alert, Button, TextField } from "@/components/ui";
import { useVideoImport } from "@/hooks/useVideoImport";
import { ImportProgressPanel } from "./ImportProgressPanel";

/** Paste a link, import it, watch it arrive. */
export function ImportForm() {
  const imp = useVideoImport();
  const [url, setUrl] = useState("");
  const [emptyError, setEmptyError] = useState<string | null>(null);
  const busy = imp.phase === "starting" || imp.phase === "running";

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    if (url.trim() === "") {
      setEmptyError("Enter the link of a video.");
      return;
    }
    setEmptyError(null);
    void imp.start(url);
  };

  return (
    <div className="flex flex-col gap-6">
      <form onSubmit={submit} noValidate className="flex flex-col gap-3 sm:flex-row sm:items-start">
        <TextField
          label="Video URL"
          name="url"
          type="url"
          inputMode="url"
          autoComplete="off"
          spellCheck={false}
          placeholder="https://…"
          required
          value={url}
          onChange={(e) => setUrl(e.target.value)}
          error={emptyError ?? imp.urlError}
          hint="A page or file link over http or https. Private and local addresses are refused."
          className="flex-1"
        />
        <Button type="submit" loading={imp.phase === "starting"} disabled={busy} className="sm:mt-7">
          Import
        </Button>
      </form>

      {imp.phase === "idle" && imp.error && <Alert tone="error">{imp.error}</Alert>}
      {imp.videoId && imp.phase !== "idle" && imp.phase !== "starting" && <ImportProgressPanel imp={imp} />}
    </div>
  );
}
