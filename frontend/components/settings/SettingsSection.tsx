import type { ReactNode } from "react";
import { Card } from "@/components/ui/Card";

/** One titled block of the settings page. */
export function SettingsSection({ title, description, children }: { title: string; description?: string; children: ReactNode }) {
  const id = `settings-${title.toLowerCase().replace(/\W+/g, "-")}`;
  return (
    <Card as="section" aria-labelledby={id} className="grid gap-6 md:grid-cols-[14rem_1fr] md:gap-10">
      <div className="space-y-1">
        <h2 id={id} className="text-base font-semibold text-ink">
          {title}
        </h2>
        {description && <p className="text-sm text-muted">{description}</p>}
      </div>
      <div className="min-w-0">{children}</div>
    </Card>
  );
}
