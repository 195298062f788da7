"use client";

import { useState, type ReactNode } from "react";
import { Alert } from "./Alert";
import { Button } from "./Button";
import { Dialog } from "./Dialog";

export interface ConfirmDeleteDialogProps {
  open: boolean;
  /** The dialog's accessible name, e.g. "Delete video?". */
  title: string;
  description?: ReactNode;
  onClose: () => void;
  /**
   * Does the deletion. Resolves to an error message to show in the dialog
   * (which then stays open), or to nothing when the deletion is done.
   */
  onConfirm: () => Promise<string | void>;
}

/** A "Delete …?" confirmation with Delete / Cancel; Cancel and closing are refused while the deletion runs. */
export function ConfirmDeleteDialog({ open, title, description, onClose, onConfirm }: ConfirmDeleteDialogProps) {
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
          Cancel
        </Button>
        <Button variant="danger" onClick={() => void confirm()} loading={busy}>
          Delete
        </Button>
      </div>
    </Dialog>
  );
}
