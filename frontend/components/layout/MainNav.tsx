"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import type { ComponentType, SVGProps } from "react";
import { cx } from "@/components/ui/variants";
import { ImportIcon, LibraryIcon, PostsIcon, SettingsIcon, UploadIcon } from "./icons";

interface NavItem {
  href: string;
  label: string;
  icon: ComponentType<SVGProps<SVGSVGElement>>;
}

export const NAV_ITEMS: readonly NavItem[] = [
  { href: "/library", label: "Library", icon: LibraryIcon },
  { href: "/upload", label: "Upload", icon: UploadIcon },
  { href: "/import", label: "Import", icon: ImportIcon },
  { href: "/posts", label: "Posts", icon: PostsIcon },
  { href: "/settings", label: "Settings", icon: SettingsIcon },
];

function isCurrent(pathname: string, href: string): boolean {
  const path = pathname.replace(/\/+$/, "") || "/";
  return path === href || path.startsWith(`${href}/`);
}

/**
 * The app's one navigation landmark. On a phone it is a tab bar fixed to the bottom of the
 * screen (thumb reach); from the sm breakpoint on it sits in the header.
 */
export function MainNav() {
  const pathname = usePathname();
  return (
    <nav
      aria-label="Main"
      className={cx(
        "fixed inset-x-0 bottom-0 z-30 border-t border-line bg-surface/95 pb-[env(safe-area-inset-bottom)] backdrop-blur",
        "sm:static sm:z-auto sm:border-0 sm:bg-transparent sm:pb-0 sm:backdrop-blur-none",
      )}
    >
      <ul className="mx-auto grid max-w-md grid-cols-5 sm:flex sm:max-w-none sm:gap-1">
        {NAV_ITEMS.map(({ href, label, icon: ItemIcon }) => {
          const current = isCurrent(pathname, href);
          return (
            <li key={href}>
              <Link
                href={href}
                aria-current={current ? "page" : undefined}
                className={cx(
                  "flex h-16 flex-col items-center justify-center gap-1 text-[0.6875rem] font-medium transition-colors",
                  "sm:h-9 sm:flex-row sm:gap-2 sm:rounded-lg sm:px-3 sm:text-sm",
                  current ? "text-ink sm:bg-raised" : "text-muted hover:text-ink sm:hover:bg-raised/60",
                )}
              >
                <ItemIcon className={cx("size-6 sm:size-[1.125rem]", current && "text-accent-strong")} />
                {label}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
