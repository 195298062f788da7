import type { ReactNode } from "react";
import { Brand } from "@/components/layout/Brand";

/** Sign-in pages: one narrow column, centred, with a soft glow of the accent behind it. */
export default function AuthLayout({ children }: { children: ReactNode }) {
  return (
    <div className="relative isolate flex min-h-dvh flex-col items-center px-4 py-10 sm:justify-center sm:py-16">
      <div
        aria-hidden="true"
        className="pointer-events-none absolute inset-x-0 top-0 -z-10 h-[28rem] bg-[radial-gradient(ellipse_at_top,color-mix(in_oklab,var(--color-accent)_22%,transparent),transparent_65%)]"
      />
      <header className="mb-8">
        <Brand href="/auth/login" />
      </header>
      <main id="main" tabIndex={-1} className="w-full max-w-[26rem]">
        {children}
      </main>
    </div>
  );
}
