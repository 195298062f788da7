"use client";

import { useState } from "react";
import { Alert, Button, Dialog } from "@/components/ui";
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
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const close = () => {
    if (busy) return;
    setError(null);
    onClose();
  };

  const confirm = async () => {
    if (!post) return;
    setBusy(true);
    setError(null);
    try {
      onCancelled(await cancelPost(post.id));
    } catch (err) {
      const e = toApiError(err);
      setError(postError(e));
      if (e.status === 409) void getPost(post.id).then(onChanged, () => undefined);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      open={post !== null}
      onClose={close}
      title="Cancel this post?"
      description={post ? <>“{post.title}” will not be published. The video or clip itself stays in your library.</> : undefined}
    >
      {error && <Alert tone="error">{error}</Alert>}
      <div className="flex flex-col-reverse gap-2 sm:flex-row sm:justify-end">
        <Button variant="secondary" onClick={close} disabled={busy} autoFocus>
          Keep post
        </Button>
        <Button variant="danger" onClick={() => void confirm()} loading={busy}>
          Cancel post
        </Button>
      </div>
    </Dialog>
  );
}
