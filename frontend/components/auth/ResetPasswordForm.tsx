"use client";

import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useState, type FormEvent } from "react";
import { Button } from "@/components/ui/Button";
import { buttonClasses, linkClasses } from "@/components/ui/variants";
import { resetPassword } from "@/lib/api/auth";
import { fieldError, toApiError, type ApiError } from "@/lib/axios";
import { AuthCard, StatusMark } from "./AuthCard";
import { FormAlert } from "./FormAlert";
import { PasswordField } from "./PasswordField";
import { useRetryCountdown } from "./useRetryCountdown";

const MIN_PASSWORD = 8;

export function ResetPasswordForm() {
  const token = useSearchParams().get("token") ?? "";
  const [password, setPassword] = useState("");
  const [problem, setProblem] = useState<string | undefined>();
  const [error, setError] = useState<ApiError | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [done, setDone] = useState(false);
  const [secondsLeft, startCountdown] = useRetryCountdown();

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (password.length < MIN_PASSWORD) {
      setProblem(`Use at least ${MIN_PASSWORD} characters.`);
      document.getElementById("reset-password")?.focus();
      return;
    }
    setProblem(undefined);
    setSubmitting(true);
    setError(null);
    try {
      await resetPassword({ token, password });
      setDone(true);
    } catch (err) {
      const apiError = toApiError(err);
      setError(apiError);
      startCountdown(apiError.retryAfterSeconds);
    } finally {
      setSubmitting(false);
    }
  }

  if (done) {
    return (
      <AuthCard
        icon={<StatusMark tone="success" />}
        title="Password changed"
        description="Your new password is set, and every device that was signed in has been signed out."
      >
        <Link href="/auth/login" className={buttonClasses({ fullWidth: true })}>
          Sign in
        </Link>
      </AuthCard>
    );
  }

  const footer = (
    <Link href="/auth/forgot-password" className={linkClasses}>
      Ask for a new link
    </Link>
  );

  if (!token) {
    return (
      <AuthCard
        icon={<StatusMark tone="danger" />}
        title="Choose a new password"
        description="This link is missing its code. Open the link from the email exactly as it arrived, or ask for a new one."
        footer={footer}
      />
    );
  }

  return (
    <AuthCard title="Choose a new password" description="Pick one you do not use anywhere else." footer={footer}>
      <form noValidate onSubmit={onSubmit} className="space-y-5">
        <FormAlert error={error} secondsLeft={secondsLeft} />
        <PasswordField
          id="reset-password"
          label="New password"
          name="password"
          autoComplete="new-password"
          hint={`At least ${MIN_PASSWORD} characters.`}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={problem ?? fieldError(error, "password", "New password")}
        />
        <Button type="submit" fullWidth loading={submitting} disabled={secondsLeft > 0}>
          Set new password
        </Button>
      </form>
    </AuthCard>
  );
}
