"use client";

import { useState } from "react";
import { Alert, Button, Dialog } from "@/components/ui";
import { api, describeError, toApiError } from "@/lib/axios";
import type { Clip } from "@/lib/api/types";

export interface DeleteClipDialogProps {
  /** The clip to delete; null when the dialog is closed. */
  clip: Clip | null;
  onClose: () => void;
  onDeleted: (clip: Clip) => void;
}

/** "Delete clip?" with Delete / Cancel (DELETE /api/clips/{id}; a clip already gone counts as deleted). */
export function DeleteClipDialog({ clip, onClose, onDeleted }: DeleteClipDialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const close = () => {
    if (busy) return;
    setError(null);
    onClose();
  };

  const confirm = async () => {
    if (!clip) return;
    setBusy(true);
    setError(null);
    try {
      await api.delete(`/clips/${encodeURIComponent(clip.id)}`);
      onDeleted(clip);
    } catch (err) {
      const e = toApiError(err);
      if (e.status === 404) onDeleted(clip);
      else setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      open={clip !== null}
      onClose={close}
      title="Delete clip?"
      description={clip ? <>“{clip.title}” and its file will be deleted. This cannot be undone.</> : undefined}
    >
      {error && <Alert tone="error">{error}</Alert>}
      <div className="flex flex-col-reverse gap-2 sm:flex-row sm:justify-end">
        <Button variant="secondary" onClick={close} disabled={busy} autoFocus>
          Cancel
        </Button>
        <Button variant="danger" onClick={() => void confirm()} loading={busy}>
          Delete
        </Button>
      </div>
    </Dialog>
  );
}
