"use client";

import { Suspense } from "react";
import { VerifyEmail } from "@/components/auth/VerifyEmail";
import { AuthPageFallback } from "@/components/auth/AuthPageFallback";

export default function Page() {
  return (
    <Suspense fallback={<AuthPageFallback />}>
      <VerifyEmail />
    </Suspense>
  );
}
