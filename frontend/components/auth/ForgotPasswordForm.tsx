"use client";

import Link from "next/link";
import { useState, type FormEvent } from "react";
import { Alert } from "@/components/ui/Alert";
import { Button } from "@/components/ui/Button";
import { TextField } from "@/components/ui/TextField";
import { linkClasses } from "@/components/ui/variants";
import { forgotPassword } from "@/lib/api/auth";
import { fieldError, toApiError, type ApiError } from "@/lib/axios";
import { AuthCard } from "./AuthCard";
import { FormAlert } from "./FormAlert";
import { useRetryCountdown } from "./useRetryCountdown";

export function ForgotPasswordForm() {
  const [email, setEmail] = useState("");
  const [missing, setMissing] = useState<string | undefined>();
  const [error, setError] = useState<ApiError | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [secondsLeft, startCountdown] = useRetryCountdown();

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const value = email.trim();
    if (!value) {
      setMissing("Enter the email address of your account.");
      document.getElementById("forgot-email")?.focus();
      return;
    }
    setMissing(undefined);
    setSubmitting(true);
    setError(null);
    try {
      await forgotPassword(value);
      setSentTo(value);
    } catch (err) {
      const apiError = toApiError(err);
      setError(apiError);
      startCountdown(apiError.retryAfterSeconds);
    } finally {
      setSubmitting(false);
    }
  }

  return (
    <AuthCard
      title="Forgot your password?"
      description="Enter the email address of your account and we will send you a link to choose a new password."
      footer={
        <>
          Remembered it?{" "}
          <Link href="/auth/login" className={linkClasses}>
            Sign in
          </Link>
        </>
      }
    >
      <form noValidate onSubmit={onSubmit} className="space-y-5">
        {sentTo && (
          <Alert tone="success" title="Check your email">
            If an account exists for {sentTo}, a link to reset its password is on its way. It works for a limited time.
          </Alert>
        )}
        <FormAlert error={error} secondsLeft={secondsLeft} />
        <TextField
          id="forgot-email"
          label="Email"
          type="email"
          name="email"
          autoComplete="email"
          inputMode="email"
          autoCapitalize="none"
          spellCheck={false}
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={missing ?? fieldError(error, "email", "Email")}
        />
        <Button type="submit" fullWidth loading={submitting} disabled={secondsLeft > 0}>
          Send reset link
        </Button>
      </form>
    </AuthCard>
  );
}
