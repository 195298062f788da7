import type { ReactNode } from "react";
import { cx } from "./variants";

export interface EmptyStateProps {
  title: string;
  description?: ReactNode;
  /** Usually a link or button that gets the person started. */
  action?: ReactNode;
  icon?: ReactNode;
  className?: string;
}

export function EmptyState({ title, description, action, icon, className }: EmptyStateProps) {
  return (
    <div
      className={cx(
        "flex flex-col items-center justify-center gap-3 rounded-[var(--radius-card)] border border-dashed border-line px-6 py-14 text-center",
        className,
      )}
    >
      <div aria-hidden="true" className="grid size-12 place-items-center rounded-full bg-raised text-muted">
        {icon ?? (
          <svg viewBox="0 0 24 24" className="size-6 fill-none stroke-current" strokeWidth="1.6">
            <rect x="3" y="5" width="18" height="14" rx="2.5" />
            <path d="m10 9.5 4.5 2.5-4.5 2.5v-5Z" />
          </svg>
        )}
      </div>
      <p className="text-base font-semibold text-ink">{title}</p>
      {description && <div className="max-w-sm text-sm text-muted">{description}</div>}
      {action && <div className="pt-2">{action}</div>}
    </div>
  );
}
