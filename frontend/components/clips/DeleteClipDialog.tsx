"use client";

import { ConfirmDialog } from "@/components/ui";
import { api, describeError, toApiError } from "@/lib/axios";
import type { Clip } from "@/lib/api/types";
import { pauseFollowing } from "@/lib/following";

export interface DeleteClipDialogProps {
  /** The clip to delete; null when the dialog is closed. */
  clip: Clip | null;
  onClose: () => void;
  onDeleted: (clip: Clip) => void;
}

/**
 * "Delete clip?" with Delete / Cancel (DELETE /api/clips/{id}; a clip already gone counts as deleted).
 * Its progress poll stops first, and goes on if the delete fails.
 */
export function DeleteClipDialog({ clip, onClose, onDeleted }: DeleteClipDialogProps) {
  const remove = async () => {
    if (!clip) return;
    const resume = pauseFollowing(clip.id);
    try {
      await api.delete(`/clips/${encodeURIComponent(clip.id)}`);
    } catch (err) {
      const e = toApiError(err);
      if (e.status !== 404) {
        resume();
        return describeError(e);
      }
    }
    onDeleted(clip);
  };

  return (
    <ConfirmDialog
      open={clip !== null}
      onClose={onClose}
      onConfirm={remove}
      title="Delete clip?"
      description={clip ? <>“{clip.title}” and its file will be deleted. This cannot be undone.</> : undefined}
    />
  );
}
