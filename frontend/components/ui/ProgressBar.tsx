import { cx } from "./variants";

export interface ProgressBarProps {
  /** The accessible name, e.g. "Upload of clip.mp4". */
  label: string;
  /** Current value from 0 to max; null while the amount is unknown (indeterminate). */
  value: number | null;
  max?: number;
  /** Words read instead of the bare number, e.g. "42 %, 1.2 GB of 3 GB". */
  valueText?: string;
  tone?: "accent" | "success" | "danger" | "warning";
  className?: string;
}

const tones = { accent: "bg-accent", success: "bg-success", danger: "bg-danger", warning: "bg-warning" } as const;

export function ProgressBar({ label, value, max = 100, valueText, tone = "accent", className }: ProgressBarProps) {
  const known = value !== null && Number.isFinite(value);
  const clamped = known ? Math.min(max, Math.max(0, value)) : 0;
  const percent = max > 0 ? (clamped / max) * 100 : 0;
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={max}
      aria-valuenow={known ? Math.round(clamped * 100) / 100 : undefined}
      aria-valuetext={valueText ?? (known ? `${Math.round(percent)} %` : undefined)}
      aria-busy={!known || undefined}
      className={cx("relative h-2 w-full overflow-hidden rounded-full bg-raised", className)}
    >
      {known ? (
        <div
          className={cx("h-full rounded-full transition-[width] duration-300 ease-out motion-reduce:transition-none", tones[tone])}
          style={{ width: `${percent}%` }}
        />
      ) : (
        <div className={cx("absolute inset-y-0 w-1/3 animate-[progress-slide_1.4s_ease-in-out_infinite] rounded-full", tones[tone])} />
      )}
    </div>
  );
}
