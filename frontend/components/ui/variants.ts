// The one place where the look of shared controls is decided: components (and
// links that should look like buttons) take their classes from here.

export type ClassValue = string | false | null | undefined;

/** Joins the truthy class names. */
export function cx(...parts: ClassValue[]): string {
  return parts.filter(Boolean).join(" ");
}

export type ButtonVariant = "primary" | "secondary" | "ghost" | "danger";
export type ButtonSize = "sm" | "md";

const buttonBase =
  "inline-flex items-center justify-center gap-2 rounded-lg font-medium whitespace-nowrap select-none " +
  "transition-colors duration-150 focus-visible:outline-2 focus-visible:outline-offset-2 " +
  "focus-visible:outline-accent-strong disabled:cursor-not-allowed disabled:opacity-55 " +
  "aria-disabled:cursor-not-allowed aria-disabled:opacity-55";

const buttonVariants: Record<ButtonVariant, string> = {
  primary: "bg-accent text-accent-ink shadow-sm shadow-accent/20 hover:bg-accent-strong enabled:active:translate-y-px",
  secondary: "border border-line bg-raised text-ink hover:border-muted/60 hover:bg-line/60",
  ghost: "text-muted hover:bg-raised hover:text-ink",
  danger: "bg-danger/90 text-canvas hover:bg-danger",
};

const buttonSizes: Record<ButtonSize, string> = {
  sm: "h-8 px-3 text-sm",
  md: "h-10 px-4 text-sm sm:text-[0.9375rem]",
};

export function buttonClasses(
  opts: { variant?: ButtonVariant; size?: ButtonSize; fullWidth?: boolean; className?: string } = {},
): string {
  const { variant = "primary", size = "md", fullWidth = false, className } = opts;
  return cx(buttonBase, buttonVariants[variant], buttonSizes[size], fullWidth && "w-full", className);
}

export const cardClasses = "rounded-[var(--radius-card)] border border-line bg-surface shadow-lg shadow-black/20";

export const inputClasses =
  "block h-10 w-full rounded-lg border bg-canvas px-3 text-[0.9375rem] text-ink placeholder:text-muted/70 " +
  "transition-colors focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-accent-strong " +
  "disabled:opacity-60";

export const linkClasses =
  "font-medium text-accent-strong underline-offset-4 hover:underline focus-visible:rounded-sm";
