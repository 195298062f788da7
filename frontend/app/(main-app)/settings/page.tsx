"use client";

import { PasswordForm } from "@/components/settings/PasswordForm";
import { ProfileForm } from "@/components/settings/ProfileForm";
import { SessionsSection } from "@/components/settings/SessionsSection";

export default function SettingsPage() {
  return (
    <>
      <title>Settings · Videofn</title>
      <div className="mx-auto max-w-4xl space-y-6">
        <div className="space-y-1">
          <h1 className="text-2xl font-semibold tracking-tight text-ink sm:text-3xl">Settings</h1>
          <p className="text-sm text-muted">Your profile, password and sessions.</p>
        </div>
        <ProfileForm />
        <PasswordForm />
        <SessionsSection />
      </div>
    </>
  );
}
