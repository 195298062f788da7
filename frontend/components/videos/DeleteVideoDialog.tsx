"use client";

import { ConfirmDialog } from "@/components/ui";
import { api, describeError, toApiError } from "@/lib/axios";
import type { Video } from "@/lib/api/types";
import { pauseFollowing } from "@/lib/following";
import { useUploadStore } from "@/lib/store/uploadStore";

export interface DeleteVideoDialogProps {
  /** The video to delete; null when the dialog is closed. */
  video: Video | null;
  onClose: () => void;
  onDeleted: (id: string) => void;
}

/**
 * "Delete video?" with Delete / Cancel; deleting first stops this tab's upload of that video and every
 * poll following it (its import, its processing, its clips), which go on if the delete fails.
 */
export function DeleteVideoDialog({ video, onClose, onDeleted }: DeleteVideoDialogProps) {
  const remove = async () => {
    if (!video) return;
    const resume = pauseFollowing(video.id);
    try {
      const upload = useUploadStore.getState().items.find((i) => i.videoId === video.id);
      if (upload) useUploadStore.getState().cancel(upload.id);
      await api.delete(`/videos/${encodeURIComponent(video.id)}`);
    } catch (err) {
      resume();
      return describeError(toApiError(err));
    }
    onDeleted(video.id);
  };

  return (
    <ConfirmDialog
      open={video !== null}
      onClose={onClose}
      onConfirm={remove}
      title="Delete video?"
      description={video ? <>“{video.title}” and its file will be deleted. This cannot be undone.</> : undefined}
    />
  );
}
