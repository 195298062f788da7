"use client";

import { useState } from "react";
import { Alert } from "@/components/ui/Alert";
import { Button } from "@/components/ui/Button";
import { Card } from "@/components/ui/Card";
import { restoreSession } from "@/lib/store/authStore";
import { Brand } from "./Brand";

/** The session could not be checked (offline, server busy): say so and let the person retry. */
export function RestoreFailed({ message }: { message: string }) {
  const [retrying, setRetrying] = useState(false);
  return (
    <div className="flex min-h-dvh flex-col items-center justify-center gap-8 px-4 py-16">
      <Brand />
      <main id="main" tabIndex={-1} className="w-full max-w-[26rem]">
        <Card className="space-y-5">
          <h1 className="text-xl font-semibold tracking-tight text-ink">We could not reach Videofn</h1>
          <Alert tone="warning">{message}</Alert>
          <Button
            fullWidth
            loading={retrying}
            onClick={async () => {
              setRetrying(true);
              await restoreSession();
              setRetrying(false);
            }}
          >
            Try again
          </Button>
        </Card>
      </main>
    </div>
  );
}
