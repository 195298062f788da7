import type { ReactNode } from "react";
import { Card } from "@/components/ui/Card";

export interface AuthCardProps {
  title: string;
  description?: ReactNode;
  children?: ReactNode;
  /** Under the card: "Create an account", "Sign in"... */
  footer?: ReactNode;
  /** A mark above the title (for example a check for "Email verified"). */
  icon?: ReactNode;
}

/** The frame of every sign-in page: a titled card with the form, links underneath. */
export function AuthCard({ title, description, children, footer, icon }: AuthCardProps) {
  return (
    <>
      <title>{`${title} · Videofn`}</title>
      <Card className="w-full">
        <div className="mb-6 space-y-2">
          {icon}
          <h1 className="text-2xl font-semibold tracking-tight text-ink">{title}</h1>
          {description && <div className="text-sm leading-relaxed text-muted">{description}</div>}
        </div>
        {children}
      </Card>
      {footer && <div className="mt-6 text-center text-sm text-muted">{footer}</div>}
    </>
  );
}

export function StatusMark({ tone }: { tone: "success" | "danger" | "accent" }) {
  const color = { success: "bg-success/15 text-success", danger: "bg-danger/15 text-danger", accent: "bg-accent/15 text-accent-strong" }[tone];
  const path = {
    success: "m7.5 12.5 3 3 6-7",
    danger: "M12 7.5v5.5m0 3.5v.01",
    accent: "M4 7.5 12 13l8-5.5M5.5 18.5h13a1.5 1.5 0 0 0 1.5-1.5V7a1.5 1.5 0 0 0-1.5-1.5h-13A1.5 1.5 0 0 0 4 7v10a1.5 1.5 0 0 0 1.5 1.5Z",
  }[tone];
  return (
    <div aria-hidden="true" className={`mb-4 grid size-12 place-items-center rounded-full ${color}`}>
      <svg viewBox="0 0 24 24" className="size-6" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round">
        <path d={path} />
      </svg>
    </div>
  );
}
