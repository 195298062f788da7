import type { Metadata } from "next";

// The tab's title; the page itself is a client component, which cannot export metadata.
export const metadata: Metadata = { title: "Connections" };

export default function Layout({ children }: { children: React.ReactNode }) {
  return children;
}
