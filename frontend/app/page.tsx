"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";
import { ShellSkeleton } from "@/components/layout/ShellSkeleton";

/** "/" is the library; a static export cannot redirect on the server, so the browser does. */
export default function Home() {
  const router = useRouter();
  useEffect(() => {
    router.replace("/library");
  }, [router]);
  return <ShellSkeleton />;
}
