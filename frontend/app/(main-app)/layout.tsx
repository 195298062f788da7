"use client";

import { useRouter } from "next/navigation";
import { useEffect, type ReactNode } from "react";
import { AppShell } from "@/components/layout/AppShell";
import { RestoreFailed } from "@/components/layout/RestoreFailed";
import { ShellSkeleton } from "@/components/layout/ShellSkeleton";
import { restoreSession, useAuthStore } from "@/lib/store/authStore";

/**
 * The auth gate of every signed-in page. On page load the session is restored once (the shell's
 * skeleton shows meanwhile, never a flash of the sign-in page); without a session the person goes
 * to sign in and comes back to the page they asked for.
 */
export default function MainAppLayout({ children }: { children: ReactNode }) {
  const status = useAuthStore((s) => s.status);
  const signedOutByUser = useAuthStore((s) => s.signedOutByUser);
  const restoreError = useAuthStore((s) => s.restoreError);
  const router = useRouter();

  useEffect(() => {
    if (status === "unknown") void restoreSession();
  }, [status]);

  useEffect(() => {
    if (status !== "anonymous") return;
    if (signedOutByUser) {
      router.replace("/auth/login");
      return;
    }
    const next = window.location.pathname + window.location.search;
    router.replace(`/auth/login?next=${encodeURIComponent(next)}`);
  }, [status, signedOutByUser, router]);

  if (status === "unknown" && restoreError) return <RestoreFailed message={restoreError} />;
  if (status !== "authenticated") return <ShellSkeleton />;
  return <AppShell>{children}</AppShell>;
}
