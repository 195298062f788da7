"use client";

import { Suspense } from "react";
import { ForgotPasswordForm } from "@/components/auth/ForgotPasswordForm";
import { AuthPageFallback } from "@/components/auth/AuthPageFallback";

export default function Page() {
  return (
    <Suspense fallback={<AuthPageFallback />}>
      <ForgotPasswordForm />
    </Suspense>
  );
}
