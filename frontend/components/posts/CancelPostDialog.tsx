"use client";

import { ConfirmDialog } from "@/components/ui";
import { cancelPost, getPost, type Post } from "@/lib/api/social";
import { toApiError } from "@/lib/axios";
import { postError } from "./postWords";

export interface CancelPostDialogProps {
  /** The post to cancel; null when the dialog is closed. */
  post: Post | null;
  onClose: () => void;
  onCancelled: (post: Post) => void;
  /** The post moved on meanwhile (409: it started publishing): its state now, for the list. */
  onChanged?: (post: Post) => void;
}

/** "Cancel this post?" with Keep post / Cancel post. Only a post not yet publishing can be cancelled. */
export function CancelPostDialog({ post, onClose, onCancelled, onChanged }: CancelPostDialogProps) {
  const confirm = async () => {
    if (!post) return;
    try {
      onCancelled(await cancelPost(post.id));
    } catch (err) {
      const e = toApiError(err);
      if (e.status === 409) void getPost(post.id).then(onChanged, () => undefined);
      return postError(e);
    }
  };

  return (
    <ConfirmDialog
      open={post !== null}
      onClose={onClose}
      onConfirm={confirm}
      title="Cancel this post?"
      description={post ? <>“{post.title}” will not be published. The video or clip itself stays in your library.</> : undefined}
      confirmLabel="Cancel post"
      cancelLabel="Keep post"
    />
  );
}
