"use client";

import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useEffect, useState } from "react";
import { Spinner } from "@/components/ui/Spinner";
import { buttonClasses, linkClasses } from "@/components/ui/variants";
import { verifyEmail } from "@/lib/api/auth";
import type { User } from "@/lib/api/types";
import { describeError, toApiError } from "@/lib/axios";
import { AuthCard, StatusMark } from "./AuthCard";

// A verification token works once. React strict mode runs effects twice in development, so the
// call for a token is made once per page and shared.
const attempts = new Map<string, Promise<User>>();

function verifyOnce(token: string): Promise<User> {
  let attempt = attempts.get(token);
  if (!attempt) {
    attempt = verifyEmail(token);
    attempts.set(token, attempt);
  }
  return attempt;
}

type State = { kind: "verifying" } | { kind: "verified"; user: User } | { kind: "failed"; message: string };

export function VerifyEmail() {
  const token = useSearchParams().get("token") ?? "";
  const [state, setState] = useState<State>({ kind: "verifying" });

  useEffect(() => {
    if (!token) return;
    let live = true;
    verifyOnce(token).then(
      (user) => live && setState({ kind: "verified", user }),
      (err: unknown) => live && setState({ kind: "failed", message: describeError(toApiError(err)) }),
    );
    return () => {
      live = false;
    };
  }, [token]);

  if (!token) {
    return <Failed message="This link is missing its code. Open the link from the email exactly as it arrived." />;
  }
  if (state.kind === "failed") return <Failed message={state.message} />;
  if (state.kind === "verifying") {
    return (
      <AuthCard title="Verifying your email…">
        <div className="flex items-center gap-3 text-sm text-muted">
          <Spinner size="md" label="Verifying" />
          One moment.
        </div>
      </AuthCard>
    );
  }
  return (
    <AuthCard
      icon={<StatusMark tone="success" />}
      title="Email verified"
      description={
        <>
          <strong className="font-medium text-ink">{state.user.email}</strong> is confirmed. You can sign in now.
        </>
      }
    >
      <Link
        href={`/auth/login?email=${encodeURIComponent(state.user.email)}`}
        className={buttonClasses({ fullWidth: true })}
      >
        Sign in
      </Link>
    </AuthCard>
  );
}

function Failed({ message }: { message: string }) {
  return (
    <AuthCard
      icon={<StatusMark tone="danger" />}
      title="This link does not work"
      description={message}
      footer={
        <Link href="/auth/login" className={linkClasses}>
          Sign in
        </Link>
      }
    >
      <p className="text-sm text-muted">
        Verification links work once and expire. Try to sign in: if your address still needs confirming, you can ask
        for a new link there.
      </p>
    </AuthCard>
  );
}
