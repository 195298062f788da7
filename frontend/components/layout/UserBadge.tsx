"use client";

import Link from "next/link";
import { useAuthStore } from "@/lib/store/authStore";

function initials(nameOrEmail: string): string {
  const words = nameOrEmail.split(/[\s@._-]+/).filter(Boolean);
  return ((words[0]?.[0] ?? "") + (words[1]?.[0] ?? "")).toUpperCase() || "?";
}

/** Who is signed in: the name (or the email when there is no name), a link to the settings. */
export function UserBadge() {
  const user = useAuthStore((s) => s.user);
  if (!user) return null;
  const display = user.name.trim() || user.email;
  return (
    <Link
      href="/settings"
      className="flex min-w-0 items-center gap-2.5 rounded-lg py-1 pr-1 pl-1 text-left hover:bg-raised/60 sm:pr-2.5"
      title={`Signed in as ${user.email}`}
    >
      <span
        aria-hidden="true"
        className="grid size-8 shrink-0 place-items-center rounded-full bg-accent/20 text-xs font-semibold text-accent-strong"
      >
        {initials(display)}
      </span>
      <span className="flex min-w-0 flex-col leading-tight">
        <span className="max-w-[9rem] truncate text-sm font-medium text-ink sm:max-w-[14rem]">{display}</span>
        {user.name.trim() && (
          <span className="hidden max-w-[14rem] truncate text-xs text-muted md:block">{user.email}</span>
        )}
      </span>
    </Link>
  );
}
