"use client";

import { useRouter } from "next/navigation";
import { useState } from "react";
import { Alert } from "@/components/ui/Alert";
import { Button } from "@/components/ui/Button";
import { logout, logoutEverywhere } from "@/lib/api/auth";
import { describeError, toApiError } from "@/lib/axios";
import { SettingsSection } from "./SettingsSection";

export function SessionsSection() {
  const router = useRouter();
  const [busy, setBusy] = useState<"here" | "everywhere" | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function run(which: "here" | "everywhere") {
    setBusy(which);
    setError(null);
    try {
      if (which === "here") await logout().catch(() => undefined); // signed out here whatever the server said
      else await logoutEverywhere();
      router.replace("/auth/login");
    } catch (err) {
      setError(describeError(toApiError(err)));
      setBusy(null);
    }
  }

  return (
    <SettingsSection title="Sessions" description="Where you are signed in.">
      <div className="space-y-4">
        <p className="text-sm text-muted">
          Sign out of this browser, or of every device and browser where your account is signed in (including this
          one).
        </p>
        <div className="flex flex-wrap gap-3">
          <Button variant="secondary" loading={busy === "here"} disabled={busy !== null} onClick={() => run("here")}>
            Sign out
          </Button>
          <Button variant="danger" loading={busy === "everywhere"} disabled={busy !== null} onClick={() => run("everywhere")}>
            Sign out everywhere
          </Button>
        </div>
        {error && <Alert tone="error">{error}</Alert>}
      </div>
    </SettingsSection>
  );
}
