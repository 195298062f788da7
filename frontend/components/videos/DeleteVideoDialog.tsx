"use client";

import { useState } from "react";
import { Alert, Button, Dialog } from "@/components/ui";
import { api, describeError, toApiError } from "@/lib/axios";
import type { Video } from "@/lib/api/types";
import { useUploadStore } from "@/lib/store/uploadStore";

export interface DeleteVideoDialogProps {
  /** The video to delete; null when the dialog is closed. */
  video: Video | null;
  onClose: () => void;
  onDeleted: (id: string) => void;
}

/** "Delete video?" with Delete / Cancel; deleting also stops this tab's upload of that video. */
export function DeleteVideoDialog({ video, onClose, onDeleted }: DeleteVideoDialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const close = () => {
    if (busy) return;
    setError(null);
    onClose();
  };

  const confirm = async () => {
    if (!video) return;
    setBusy(true);
    setError(null);
    try {
      const upload = useUploadStore.getState().items.find((i) => i.videoId === video.id);
      if (upload) useUploadStore.getState().cancel(upload.id);
      await api.delete(`/videos/${encodeURIComponent(video.id)}`);
      onDeleted(video.id);
    } catch (err) {
      setError(describeError(toApiError(err)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      open={video !== null}
      onClose={close}
      title="Delete video?"
      description={video ? <>“{video.title}” and its file will be deleted. This cannot be undone.</> : undefined}
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
