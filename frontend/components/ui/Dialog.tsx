"use client";

import { useEffect, useId, useRef, type ReactNode } from "react";
import { cardClasses, cx } from "./variants";

export interface DialogProps {
  open: boolean;
  /** Called when the person dismisses the dialog (Escape, backdrop click) or a child asks to close. */
  onClose: () => void;
  title: string;
  description?: ReactNode;
  children?: ReactNode;
  className?: string;
}

/**
 * A modal on the native <dialog>: showModal() gives the focus trap, the inert background, the
 * top layer and Escape for free; focus returns to the opener when it closes.
 */
export function Dialog({ open, onClose, title, description, children, className }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const descriptionId = useId();
  const onCloseRef = useRef(onClose);
  useEffect(() => {
    onCloseRef.current = onClose;
  });

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      if (typeof dialog.showModal === "function") dialog.showModal();
      else dialog.setAttribute("open", ""); // environments without showModal (jsdom)
    } else if (!open && dialog.open) {
      if (typeof dialog.close === "function") dialog.close();
      else dialog.removeAttribute("open");
    }
  }, [open]);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    // Escape fires "cancel": keep the dialog under React's control and let the owner decide.
    const onCancel = (e: Event) => {
      e.preventDefault();
      onCloseRef.current();
    };
    dialog.addEventListener("cancel", onCancel);
    return () => dialog.removeEventListener("cancel", onCancel);
  }, []);

  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      aria-describedby={description ? descriptionId : undefined}
      onClick={(e) => {
        // A click on the backdrop lands on the <dialog> itself, not on its content.
        if (e.target === e.currentTarget) onCloseRef.current();
      }}
      className={cx(
        cardClasses,
        "m-auto w-[min(28rem,calc(100vw-2rem))] p-0 text-ink backdrop:bg-black/60 backdrop:backdrop-blur-sm",
        "open:animate-[dialog-in_160ms_ease-out]",
        className,
      )}
    >
      {open && (
        <div className="flex flex-col gap-4 p-5 sm:p-6">
          <div className="space-y-1.5">
            <h2 id={titleId} className="text-lg font-semibold">
              {title}
            </h2>
            {description && (
              <div id={descriptionId} className="text-sm text-muted">
                {description}
              </div>
            )}
          </div>
          {children}
        </div>
      )}
    </dialog>
  );
}
