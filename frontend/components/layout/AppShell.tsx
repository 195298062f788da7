import type { ReactNode } from "react";
import { Brand } from "./Brand";
import { MainNav } from "./MainNav";
import { UserBadge } from "./UserBadge";

// No backdrop-filter here: it would make the header the containing block of the phone tab bar
// (position: fixed) and pin the bar to the header instead of the screen.
export const SHELL_HEADER = "sticky top-0 z-20 border-b border-line/80 bg-canvas/95";
export const SHELL_BAR = "mx-auto flex h-16 max-w-6xl items-center gap-4 px-4 sm:px-6";
/** Room at the bottom on phones for the fixed tab bar. */
export const SHELL_MAIN = "mx-auto w-full max-w-6xl px-4 pt-6 pb-28 sm:px-6 sm:pt-10 sm:pb-16";

/** The signed-in frame: header (brand, navigation, user), then the page. */
export function AppShell({ children }: { children: ReactNode }) {
  return (
    <div className="flex min-h-dvh flex-col">
      <header className={SHELL_HEADER}>
        <div className={SHELL_BAR}>
          <Brand />
          <div className="flex flex-1 justify-center">
            <MainNav />
          </div>
          <UserBadge />
        </div>
      </header>
      <main id="main" tabIndex={-1} className={SHELL_MAIN}>
        {children}
      </main>
    </div>
  );
}
