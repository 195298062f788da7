import type { HTMLAttributes } from "react";
import { cardClasses, cx } from "./variants";

export interface CardProps extends HTMLAttributes<HTMLElement> {
  as?: "div" | "section" | "article" | "li";
  padded?: boolean;
}

export function Card({ as: Tag = "div", padded = true, className, ...rest }: CardProps) {
  return <Tag className={cx(cardClasses, padded && "p-5 sm:p-6", className)} {...rest} />;
}
