"use client";

import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { useState, type FormEvent } from "react";
import { Alert } from "@/components/ui/Alert";
import { Button } from "@/components/ui/Button";
import { TextField } from "@/components/ui/TextField";
import { linkClasses } from "@/components/ui/variants";
import { login, resendVerification } from "@/lib/api/auth";
import { describeError, fieldError, toApiError, type ApiError } from "@/lib/axios";
import { useAuthStore } from "@/lib/store/authStore";
import { AuthCard } from "./AuthCard";
import { FormAlert } from "./FormAlert";
import { GoogleSignIn } from "./GoogleSignIn";
import { safeNext } from "./navigation";
import { PasswordField } from "./PasswordField";
import { useRetryCountdown } from "./useRetryCountdown";

type Resend = "idle" | "sending" | "sent" | { failed: string };

export function LoginForm() {
  const params = useSearchParams();
  const router = useRouter();
  const next = safeNext(params.get("next"));
  const signedOutByUser = useAuthStore((s) => s.signedOutByUser);
  const [email, setEmail] = useState(params.get("email") ?? "");
  const [password, setPassword] = useState("");
  const [missing, setMissing] = useState<{ email?: string; password?: string }>({});
  const [error, setError] = useState<ApiError | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [resend, setResend] = useState<Resend>("idle");
  const [secondsLeft, startCountdown] = useRetryCountdown();

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const problems = {
      email: email.trim() ? undefined : "Enter your email address.",
      password: password ? undefined : "Enter your password.",
    };
    setMissing(problems);
    if (problems.email || problems.password) {
      document.getElementById(problems.email ? "login-email" : "login-password")?.focus();
      return;
    }
    setSubmitting(true);
    setError(null);
    setResend("idle");
    try {
      await login({ email: email.trim(), password });
      router.replace(next);
    } catch (err) {
      const apiError = toApiError(err);
      setError(apiError);
      startCountdown(apiError.retryAfterSeconds);
      setSubmitting(false);
    }
  }

  async function onResend() {
    setResend("sending");
    try {
      await resendVerification(email.trim());
      setResend("sent");
    } catch (err) {
      setResend({ failed: describeError(toApiError(err)) });
    }
  }

  const notVerified = error?.code === "email_not_verified";

  return (
    <AuthCard
      title="Sign in"
      description="Welcome back. Sign in to your library."
      footer={
        <>
          New here?{" "}
          <Link href="/auth/register" className={linkClasses}>
            Create an account
          </Link>
        </>
      }
    >
      <form noValidate onSubmit={onSubmit} className="space-y-5">
        {signedOutByUser && !error && <Alert tone="success">You are signed out.</Alert>}
        {notVerified ? (
          <Alert
            tone="warning"
            title="Verify your email first"
            action={
              resend === "sent" ? null : (
                <Button variant="secondary" size="sm" loading={resend === "sending"} onClick={onResend}>
                  Resend verification email
                </Button>
              )
            }
          >
            {resend === "sent"
              ? `We sent a new verification link to ${email.trim()}. Open it, then sign in.`
              : typeof resend === "object"
                ? resend.failed
                : "Open the link in the email we sent you when you registered."}
          </Alert>
        ) : (
          <FormAlert error={error} secondsLeft={secondsLeft} />
        )}
        <TextField
          id="login-email"
          label="Email"
          type="email"
          name="email"
          autoComplete="email"
          inputMode="email"
          autoCapitalize="none"
          spellCheck={false}
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={missing.email ?? fieldError(error, "email", "Email")}
        />
        <PasswordField
          id="login-password"
          label="Password"
          name="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={missing.password ?? fieldError(error, "password", "Password")}
          labelAside={
            <Link href="/auth/forgot-password" className={`${linkClasses} text-sm`}>
              Forgot password?
            </Link>
          }
        />
        <Button type="submit" fullWidth loading={submitting} disabled={secondsLeft > 0}>
          Sign in
        </Button>
      </form>
      <GoogleSignIn next={next} />
    </AuthCard>
  );
}
