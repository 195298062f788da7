"use client";

import Link from "next/link";
import { useState, type FormEvent } from "react";
import { Alert } from "@/components/ui/Alert";
import { Button } from "@/components/ui/Button";
import { TextField } from "@/components/ui/TextField";
import { linkClasses } from "@/components/ui/variants";
import { register, resendVerification } from "@/lib/api/auth";
import { describeError, fieldError, toApiError, type ApiError } from "@/lib/axios";
import { AuthCard, StatusMark } from "./AuthCard";
import { FormAlert } from "./FormAlert";
import { PasswordField } from "./PasswordField";
import { useRetryCountdown } from "./useRetryCountdown";

const MIN_PASSWORD = 8;

interface Problems {
  email?: string;
  password?: string;
}

function check(email: string, password: string): Problems {
  return {
    email: !email ? "Enter your email address." : /^[^\s@]+@[^\s@]+$/.test(email) ? undefined : "Enter an email address like name@example.com.",
    password: password.length < MIN_PASSWORD ? `Use at least ${MIN_PASSWORD} characters.` : undefined,
  };
}

export function RegisterForm() {
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [problems, setProblems] = useState<Problems>({});
  const [error, setError] = useState<ApiError | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [sentTo, setSentTo] = useState<string | null>(null);
  const [secondsLeft, startCountdown] = useRetryCountdown();

  async function onSubmit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const found = check(email.trim(), password);
    setProblems(found);
    if (found.email || found.password) {
      document.getElementById(found.email ? "register-email" : "register-password")?.focus();
      return;
    }
    setSubmitting(true);
    setError(null);
    try {
      const trimmed = name.trim();
      await register({ email: email.trim(), password, ...(trimmed ? { name: trimmed } : {}) });
      setSentTo(email.trim());
    } catch (err) {
      const apiError = toApiError(err);
      setError(apiError);
      startCountdown(apiError.retryAfterSeconds);
    } finally {
      setSubmitting(false);
    }
  }

  if (sentTo) return <CheckEmail email={sentTo} />;

  return (
    <AuthCard
      title="Create your account"
      description="Upload, import and keep your videos in one place."
      footer={
        <>
          Already have an account?{" "}
          <Link href="/auth/login" className={linkClasses}>
            Sign in
          </Link>
        </>
      }
    >
      <form noValidate onSubmit={onSubmit} className="space-y-5">
        <FormAlert error={error} secondsLeft={secondsLeft} />
        <TextField
          id="register-name"
          label="Name"
          name="name"
          autoComplete="name"
          maxLength={100}
          hint="Optional. Shown in the app, nowhere else."
          value={name}
          onChange={(e) => setName(e.target.value)}
          error={fieldError(error, "name", "Name")}
        />
        <TextField
          id="register-email"
          label="Email"
          type="email"
          name="email"
          autoComplete="email"
          inputMode="email"
          autoCapitalize="none"
          spellCheck={false}
          maxLength={254}
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={problems.email ?? fieldError(error, "email", "Email")}
        />
        <PasswordField
          id="register-password"
          label="Password"
          name="password"
          autoComplete="new-password"
          hint={`At least ${MIN_PASSWORD} characters. A few unrelated words make a strong one.`}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={problems.password ?? fieldError(error, "password", "Password")}
        />
        <Button type="submit" fullWidth loading={submitting} disabled={secondsLeft > 0}>
          Create account
        </Button>
      </form>
    </AuthCard>
  );
}

/** After registering: the account waits for its email to be confirmed. */
export function CheckEmail({ email }: { email: string }) {
  const [state, setState] = useState<"idle" | "sending" | "sent" | { failed: string }>("idle");

  async function onResend() {
    setState("sending");
    try {
      await resendVerification(email);
      setState("sent");
    } catch (err) {
      setState({ failed: describeError(toApiError(err)) });
    }
  }

  return (
    <AuthCard
      icon={<StatusMark tone="accent" />}
      title="Check your email"
      description={
        <>
          We sent a link to <strong className="font-medium text-ink">{email}</strong>. Open it to confirm your
          address, then sign in.
        </>
      }
      footer={
        <Link href={`/auth/login?email=${encodeURIComponent(email)}`} className={linkClasses}>
          Sign in
        </Link>
      }
    >
      <div className="space-y-4">
        <p className="text-sm text-muted">Nothing there after a minute? Look in your spam folder, or send it again.</p>
        {state === "sent" && <Alert tone="success">We sent another link to {email}.</Alert>}
        {typeof state === "object" && <Alert tone="error">{state.failed}</Alert>}
        <Button variant="secondary" fullWidth loading={state === "sending"} disabled={state === "sent"} onClick={onResend}>
          Send the email again
        </Button>
      </div>
    </AuthCard>
  );
}
