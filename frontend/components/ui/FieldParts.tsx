import type { ReactNode } from "react";
import { cx } from "./variants";

/** The ids a field's hint and error get, and the aria-describedby that reads them with the field. */
export function fieldIds(inputId: string, hint: ReactNode, error: string | null | undefined, extra?: string) {
  const hintId = hint ? `${inputId}-hint` : undefined;
  const errorId = error ? `${inputId}-error` : undefined;
  return { hintId, errorId, describedBy: cx(extra, hintId, errorId) || undefined };
}

/** The hint and the error under a field (shared by TextField, SelectField, TextAreaField). */
export function FieldNotes({ hint, hintId, error, errorId }: { hint?: ReactNode; hintId?: string; error?: string | null; errorId?: string }) {
  return (
    <>
      {hint && (
        <p id={hintId} className="text-xs text-muted">
          {hint}
        </p>
      )}
      {error && (
        <p id={errorId} className="flex items-start gap-1.5 text-sm text-danger">
          <svg aria-hidden="true" viewBox="0 0 16 16" className="mt-0.5 size-3.5 shrink-0 fill-current">
            <path d="M8 1a7 7 0 1 0 0 14A7 7 0 0 0 8 1Zm-.75 3.5h1.5v4.5h-1.5V4.5Zm0 6h1.5V12h-1.5v-1.5Z" />
          </svg>
          <span>{error}</span>
        </p>
      )}
    </>
  );
}

export function fieldBorder(error: string | null | undefined): string {
  return error ? "border-danger focus-visible:outline-danger" : "border-line hover:border-muted/50";
}
