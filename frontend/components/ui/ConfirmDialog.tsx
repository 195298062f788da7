"use client";

import { useState, type ReactNode } from "react";
import { Alert } from "./Alert";
import { Button } from "./Button";
import { Dialog } from "./Dialog";

export interface ConfirmDialogProps {
  open: boolean;
  /** The dialog's accessible name, e.g. "Delete video?". */
  title: string;
  /** The confirming button's name; "Delete" unless told. */
  confirmLabel?: string;
  /** The button that closes without acting; "Cancel" unless told. */
  cancelLabel?: string;
  description?: ReactNode;
  onClose: () => void;
  /**
   * Does the action. Resolves to an error message to show in the dialog
   * (which then stays open), or to nothing when the action is done.
   */
  onConfirm: () => Promise<string | void>;
}

/**
 * A confirmation of a destructive action ("Delete …?" with Delete / Cancel unless told otherwise);
 * cancelling and closing are refused while the action runs.
 */
export function ConfirmDialog({
  open,
  title,
  description,
  confirmLabel = "Delete",
  cancelLabel = "Cancel",
  onClose,
  onConfirm,
}: ConfirmDialogProps) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const close = () => {
    if (busy) return;
    setError(null);
    onClose();
  };

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      const message = await onConfirm();
      if (message) setError(message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open={open} onClose={close} title={title} description={description}>
      {error && <Alert tone="error">{error}</Alert>}
      <div className="flex flex-col-reverse gap-2 sm:flex-row sm:justify-end">
        <Button variant="secondary" onClick={close} disabled={busy} autoFocus>
          {cancelLabel}
        </Button>
        <Button variant="danger" onClick={() => void confirm()} loading={busy}>
          {confirmLabel}
        </Button>
      </div>
    </Dialog>
  );
}
