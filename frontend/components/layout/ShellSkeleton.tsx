import { LogoMark } from "./icons";
import { SHELL_BAR, SHELL_HEADER, SHELL_MAIN } from "./AppShell";

const block = "rounded-md bg-raised animate-[skeleton-pulse_1.6s_ease-in-out_infinite]";

/**
 * What the app looks like while the session is being restored: the shell's own geometry with
 * placeholders, so nothing jumps when it arrives (and no flash of the sign-in page).
 */
export function ShellSkeleton() {
  return (
    <div className="flex min-h-dvh flex-col" aria-busy="true">
      <header className={SHELL_HEADER}>
        <div className={SHELL_BAR}>
          <span className="inline-flex items-center gap-2.5">
            <LogoMark className="size-7" />
            <span className="text-[1.0625rem] font-semibold tracking-tight">Videofn</span>
          </span>
          <div className="flex flex-1 justify-center">
            <div className="hidden gap-2 sm:flex">
              {[0, 1, 2, 3].map((i) => (
                <span key={i} className={`${block} h-9 w-24`} />
              ))}
            </div>
          </div>
          <span className={`${block} size-8 rounded-full`} />
          <span className={`${block} hidden h-4 w-28 sm:block`} />
        </div>
      </header>
      <main className={SHELL_MAIN}>
        <p role="status" className="sr-only">
          Loading your session…
        </p>
        <div className={`${block} mb-8 h-8 w-48`} />
        <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
          {[0, 1, 2].map((i) => (
            <div key={i} className={`${block} h-56 rounded-[var(--radius-card)]`} />
          ))}
        </div>
      </main>
      <div className="fixed inset-x-0 bottom-0 h-16 border-t border-line bg-surface/95 sm:hidden" />
    </div>
  );
}
