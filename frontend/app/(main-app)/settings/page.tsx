"use client";

import Link from "next/link";
import { PasswordForm } from "@/components/settings/PasswordForm";
import { ProfileForm } from "@/components/settings/ProfileForm";
import { SessionsSection } from "@/components/settings/SessionsSection";
import { SettingsSection } from "@/components/settings/SettingsSection";
import { buttonClasses } from "@/components/ui";

export default function SettingsPage() {
  return (
    <>
      <title>Settings · Videofn</title>
      <div className="mx-auto max-w-4xl space-y-6">
        <div className="space-y-1">
          <h1 className="text-2xl font-semibold tracking-tight text-ink sm:text-3xl">Settings</h1>
          <p className="text-sm text-muted">Your profile, password, sessions and connected accounts.</p>
        </div>
        <ProfileForm />
        <PasswordForm />
        <SettingsSection title="Connections" description="Social media accounts to publish to.">
          <div className="space-y-4">
            <p className="text-sm text-muted">Connect YouTube to publish your videos and clips, now or at a time you choose.</p>
            <Link href="/settings/connections/" className={buttonClasses({ variant: "secondary" })}>
              Manage connections
            </Link>
          </div>
        </SettingsSection>
        <SessionsSection />
      </div>
    </>
  );
}
