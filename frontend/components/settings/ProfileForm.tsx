"use client";

import { useState, type FormEvent } from "react";
import { Alert } from "@/components/ui/Alert";
import { Button } from "@/components/ui/Button";
import { TextField } from "@/components/ui/TextField";
import { updateMe } from "@/lib/api/auth";
import { describeError, fieldError, toApiError, type ApiError } from "@/lib/axios";
import { useAuthStore } from "@/lib/store/authStore";
import { SettingsSection } from "./SettingsSection";

export function ProfileForm() {
  const user = useAuthStore((s) => s.user);
  const [name, setName] = useState(user?.name ?? "");
  const [error, setError] = useState<ApiError | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setSaving(true);
    setSaved(false);
    setError(null);
    try {
      const updated = await updateMe({ name: name.trim() });
      setName(updated.name);
      setSaved(true);
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setSaving(false);
    }
  }

  const nameError = fieldError(error, "name", "Display name");
  return (
    <SettingsSection title="Profile" description="How you appear in the app.">
      <form noValidate onSubmit={onSubmit} className="space-y-5">
        <TextField
          id="settings-name"
          label="Display name"
          name="name"
          autoComplete="name"
          maxLength={100}
          value={name}
          onChange={(e) => {
            setName(e.target.value);
            setSaved(false);
          }}
          error={nameError}
          hint={user ? `Signed in as ${user.email}.` : undefined}
        />
        <div className="flex flex-wrap items-center gap-4">
          <Button type="submit" loading={saving}>
            Save name
          </Button>
          {/* The live region is always there, so the message is announced when it appears. */}
          <p role="status" className="min-h-5 text-sm text-success">
            {saved ? "Name saved" : ""}
          </p>
        </div>
        {error && !nameError && <Alert tone="error">{describeError(error)}</Alert>}
      </form>
    </SettingsSection>
  );
}
