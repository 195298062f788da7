"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import { Spinner } from "@/components/ui/Spinner";
import { linkClasses } from "@/components/ui/variants";
import { setupSession } from "@/lib/api/auth";
import { describeError, toApiError } from "@/lib/axios";
import { AuthCard, StatusMark } from "./AuthCard";
import { takeRememberedNext } from "./navigation";

type Outcome = { ok: true; next: string } | { ok: false; message: string };

// The reasons the callback puts in #error=.
const REASONS: Record<string, string> = {
  access_denied: "You cancelled the sign-in at Google.",
  invalid_state: "The sign-in took too long or was started in another tab or browser. Try again.",
  invalid_request: "Google did not send what sign-in needs. Try again.",
  provider_error: "Google could not complete the sign-in. Try again.",
  exchange_failed: "Google could not confirm the sign-in. Try again.",
  email_not_verified: "Your Google account's email address is not verified, so it cannot be used here.",
  oauth_disabled: "Google sign-in is not available.",
  server_error: "Something went wrong on our side. Try again in a moment.",
};

// The one-time code is read from the fragment and the fragment is removed before anything else
// happens (so it is not kept in history or sent anywhere). Strict mode's second effect finds no
// fragment, so the exchange is started once per page and shared.
let exchange: Promise<Outcome> | null = null;

function startExchange(): Promise<Outcome> {
  if (exchange) return exchange;
  const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  window.history.replaceState(window.history.state, "", window.location.pathname + window.location.search);
  const code = fragment.get("code");
  const failure = fragment.get("error");
  if (!code) {
    const message = failure
      ? (REASONS[failure] ?? `Google sign-in did not finish (${failure}).`)
      : "This page needs the code Google sign-in sends. Start again from the sign-in page.";
    exchange = Promise.resolve({ ok: false, message });
    return exchange;
  }
  exchange = setupSession(code).then(
    (): Outcome => ({ ok: true, next: takeRememberedNext() }),
    (err: unknown): Outcome => ({ ok: false, message: describeError(toApiError(err)) }),
  );
  return exchange;
}

export function OAuthSuccess() {
  const router = useRouter();
  const [failed, setFailed] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    void startExchange().then((outcome) => {
      if (!live) return;
      if (outcome.ok) router.replace(outcome.next);
      else setFailed(outcome.message);
    });
    return () => {
      live = false;
    };
  }, [router]);

  if (failed) {
    return (
      <AuthCard
        icon={<StatusMark tone="danger" />}
        title="Google sign-in failed"
        description={failed}
        footer={
          <Link href="/auth/login" className={linkClasses}>
            Sign in
          </Link>
        }
      />
    );
  }
  return (
    <AuthCard title="Signing you in…">
      <div className="flex items-center gap-3 text-sm text-muted">
        <Spinner size="md" label="Signing you in" />
        Finishing Google sign-in.
      </div>
    </AuthCard>
  );
}
