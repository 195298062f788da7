import Link from "next/link";
import { LogoMark } from "./icons";

/** The product's mark and name; a link home. */
export function Brand({ href = "/library" }: { href?: string }) {
  return (
    <Link href={href} className="inline-flex items-center gap-2.5 rounded-md text-ink">
      <LogoMark className="size-7" />
      <span className="text-[1.0625rem] font-semibold tracking-tight">Videofn</span>
    </Link>
  );
}
