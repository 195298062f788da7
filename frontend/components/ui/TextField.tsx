"use client";

import { useId, type InputHTMLAttributes, type ReactNode } from "react";
import { cx, inputClasses } from "./variants";

export interface TextFieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, "id"> {
  label: string;
  /** The problem with the value, in words; marks the field invalid and is read with it. */
  error?: string | null;
  /** Help shown under the field and read with it. */
  hint?: ReactNode;
  id?: string;
  /** Shown right of the label (for example a "Forgot password?" link). */
  labelAside?: ReactNode;
  /** A control inside the field's right edge (for example "Show password"). */
  trailing?: ReactNode;
  ref?: React.Ref<HTMLInputElement>;
}

export function TextField({
  label,
  error,
  hint,
  id,
  labelAside,
  trailing,
  className,
  type = "text",
  ...rest
}: TextFieldProps) {
  const autoId = useId();
  const inputId = id ?? `field${autoId}`;
  const hintId = hint ? `${inputId}-hint` : undefined;
  const errorId = error ? `${inputId}-error` : undefined;
  const describedBy = cx(rest["aria-describedby"], hintId, errorId) || undefined;
  return (
    <div className={cx("flex flex-col gap-1.5", className)}>
      <div className="flex items-baseline justify-between gap-3">
        <label htmlFor={inputId} className="text-sm font-medium text-ink">
          {label}
        </label>
        {labelAside}
      </div>
      <div className="relative">
        <input
          {...rest}
          id={inputId}
          type={type}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy}
          className={cx(
            inputClasses,
            error ? "border-danger focus-visible:outline-danger" : "border-line hover:border-muted/50",
            trailing ? "pr-12" : undefined,
          )}
        />
        {trailing && <div className="absolute inset-y-0 right-1 flex items-center">{trailing}</div>}
      </div>
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
    </div>
  );
}
