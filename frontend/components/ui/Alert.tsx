import type { ReactNode } from "react";
import { cx } from "./variants";

export type AlertTone = "error" | "info" | "success" | "warning";

export interface AlertProps {
  tone?: AlertTone;
  title?: string;
  children?: ReactNode;
  className?: string;
  /** An action next to the text (for example "Resend verification email"). */
  action?: ReactNode;
}

const tones: Record<AlertTone, string> = {
  error: "border-danger/40 bg-danger/10 text-ink [--alert-icon:var(--color-danger)]",
  info: "border-accent/40 bg-accent/10 text-ink [--alert-icon:var(--color-accent-strong)]",
  success: "border-success/40 bg-success/10 text-ink [--alert-icon:var(--color-success)]",
  warning: "border-warning/40 bg-warning/10 text-ink [--alert-icon:var(--color-warning)]",
};

const icons: Record<AlertTone, string> = {
  error: "M8 1a7 7 0 1 0 0 14A7 7 0 0 0 8 1Zm-.75 3.5h1.5v4.5h-1.5V4.5Zm0 6h1.5V12h-1.5v-1.5Z",
  warning: "M8 1.5 15 14H1L8 1.5Zm-.75 4.5v4h1.5V6h-1.5Zm0 5.25v1.5h1.5v-1.5h-1.5Z",
  info: "M8 1a7 7 0 1 0 0 14A7 7 0 0 0 8 1Zm.75 3.5v1.5h-1.5V4.5h1.5Zm0 3V12h-1.5V7.5h1.5Z",
  success: "M8 1a7 7 0 1 0 0 14A7 7 0 0 0 8 1Zm3.3 4.7L7.2 10.8 4.7 8.3l1.06-1.06 1.44 1.44 3.04-3.04 1.06 1.06Z",
};

/** A message box: errors interrupt (role="alert"), everything else is announced politely (role="status"). */
export function Alert({ tone = "info", title, children, className, action }: AlertProps) {
  return (
    <div
      role={tone === "error" ? "alert" : "status"}
      className={cx("flex items-start gap-3 rounded-lg border px-3.5 py-3 text-sm", tones[tone], className)}
    >
      <svg aria-hidden="true" viewBox="0 0 16 16" className="mt-0.5 size-4 shrink-0 fill-[var(--alert-icon)]">
        <path d={icons[tone]} />
      </svg>
      <div className="min-w-0 flex-1 space-y-1">
        {title && <p className="font-semibold">{title}</p>}
        {children && <div className="text-ink/90">{children}</div>}
        {action && <div className="pt-1">{action}</div>}
      </div>
    </div>
  );
}
