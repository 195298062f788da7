"use client";

import { useState, type FormEvent } from "react";
import { Alert } from "@/components/ui/Alert";
import { Button } from "@/components/ui/Button";
import { PasswordField } from "@/components/auth/PasswordField";
import { changePassword } from "@/lib/api/auth";
import { describeError, fieldError, toApiError, type ApiError } from "@/lib/axios";
import { SettingsSection } from "./SettingsSection";

const MIN_PASSWORD = 8;

export function PasswordForm() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [problems, setProblems] = useState<{ current?: string; next?: string }>({});
  const [error, setError] = useState<ApiError | null>(null);
  const [saving, setSaving] = useState(false);
  const [changed, setChanged] = useState(false);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const found = {
      current: current ? undefined : "Enter your current password.",
      next: next.length < MIN_PASSWORD ? `Use at least ${MIN_PASSWORD} characters.` : undefined,
    };
    setProblems(found);
    setChanged(false);
    if (found.current || found.next) {
      document.getElementById(found.current ? "settings-current-password" : "settings-new-password")?.focus();
      return;
    }
    setSaving(true);
    setError(null);
    try {
      await changePassword({ current_password: current, new_password: next });
      setCurrent("");
      setNext("");
      setChanged(true);
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setSaving(false);
    }
  }

  const currentError = problems.current ?? fieldError(error, "current_password", "Current password");
  const nextError = problems.next ?? fieldError(error, "new_password", "New password");
  return (
    <SettingsSection title="Password" description="Changing it signs out your other devices.">
      <form noValidate onSubmit={onSubmit} className="space-y-5">
        <PasswordField
          id="settings-current-password"
          label="Current password"
          name="current-password"
          autoComplete="current-password"
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
          error={currentError}
        />
        <PasswordField
          id="settings-new-password"
          label="New password"
          name="new-password"
          autoComplete="new-password"
          hint={`At least ${MIN_PASSWORD} characters.`}
          value={next}
          onChange={(e) => setNext(e.target.value)}
          error={nextError}
        />
        <div className="flex flex-wrap items-center gap-4">
          <Button type="submit" loading={saving}>
            Change password
          </Button>
          <p role="status" className="min-h-5 text-sm text-success">
            {changed ? "Password changed. Your other devices were signed out." : ""}
          </p>
        </div>
        {error && !currentError && !nextError && <Alert tone="error">{describeError(error)}</Alert>}
      </form>
    </SettingsSection>
  );
}
