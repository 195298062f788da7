import Link from "next/link";
import { Brand } from "@/components/layout/Brand";
import { buttonClasses } from "@/components/ui/variants";

export default function NotFound() {
  return (
    <div className="flex min-h-dvh flex-col items-center justify-center gap-8 px-4 py-16 text-center">
      <title>Page not found · Videofn</title>
      <Brand />
      <main id="main" tabIndex={-1} className="max-w-md space-y-4">
        <p className="font-mono text-sm text-accent-strong">404</p>
        <h1 className="text-2xl font-semibold tracking-tight text-ink">This page does not exist</h1>
        <p className="text-sm text-muted">The address may be mistyped, or the page has moved.</p>
        <div className="pt-2">
          <Link href="/library" className={buttonClasses()}>
            Go to your library
          </Link>
        </div>
      </main>
    </div>
  );
}
