"use client";

import { useId, type ReactNode, type SelectHTMLAttributes } from "react";
import { FieldNotes, fieldBorder, fieldIds } from "./FieldParts";
import { cx, inputClasses } from "./variants";

export interface SelectFieldProps extends Omit<SelectHTMLAttributes<HTMLSelectElement>, "id"> {
  label: string;
  error?: string | null;
  hint?: ReactNode;
  id?: string;
  ref?: React.Ref<HTMLSelectElement>;
}

/** A labelled native <select> (keyboard and screen readers for free), styled like TextField. */
export function SelectField({ label, error, hint, id, className, children, ...rest }: SelectFieldProps) {
  const autoId = useId();
  const inputId = id ?? `field${autoId}`;
  const { hintId, errorId, describedBy } = fieldIds(inputId, hint, error, rest["aria-describedby"]);
  return (
    <div className={cx("flex flex-col gap-1.5", className)}>
      <label htmlFor={inputId} className="text-sm font-medium text-ink">
        {label}
      </label>
      <select
        {...rest}
        id={inputId}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy}
        className={cx(inputClasses, fieldBorder(error), "pr-8")}
      >
        {children}
      </select>
      <FieldNotes hint={hint} hintId={hintId} error={error} errorId={errorId} />
    </div>
  );
}
