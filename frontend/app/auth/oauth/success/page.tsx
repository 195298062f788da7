"use client";

import { Suspense } from "react";
import { OAuthSuccess } from "@/components/auth/OAuthSuccess";
import { AuthPageFallback } from "@/components/auth/AuthPageFallback";

export default function Page() {
  return (
    <Suspense fallback={<AuthPageFallback />}>
      <OAuthSuccess />
    </Suspense>
  );
}
