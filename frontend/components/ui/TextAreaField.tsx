"use client";

import { useId, type ReactNode, type TextareaHTMLAttributes } from "react";
import { FieldNotes, fieldBorder, fieldIds } from "./FieldParts";
import { cx, inputClasses } from "./variants";

export interface TextAreaFieldProps extends Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, "id"> {
  label: string;
  error?: string | null;
  hint?: ReactNode;
  id?: string;
  ref?: React.Ref<HTMLTextAreaElement>;
}

/** A labelled multi-line text field, styled like TextField. */
export function TextAreaField({ label, error, hint, id, className, rows = 3, ...rest }: TextAreaFieldProps) {
  const autoId = useId();
  const inputId = id ?? `field${autoId}`;
  const { hintId, errorId, describedBy } = fieldIds(inputId, hint, error, rest["aria-describedby"]);
  return (
    <div className={cx("flex flex-col gap-1.5", className)}>
      <label htmlFor={inputId} className="text-sm font-medium text-ink">
        {label}
      </label>
      <textarea
        {...rest}
        id={inputId}
        rows={rows}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        className={cx(inputClasses.replace("h-10 ", ""), fieldBorder(error), "min-h-20 resize-y py-2")}
      />
      <FieldNotes hint={hint} hintId={hintId} error={error} errorId={errorId} />
    </div>
  );
}
