"use client";

import { useEffect, useState } from "react";
import { buttonClasses } from "@/components/ui/variants";
import { getProviders } from "@/lib/api/auth";
import { rememberNext } from "./navigation";

/**
 * "Continue with Google", shown only when the backend has Google configured. It sits under the
 * form, so the form does not move when the answer arrives. A GET form: the browser navigates to
 * the start route, which redirects to Google.
 */
export function GoogleSignIn({ next }: { next: string }) {
  const [google, setGoogle] = useState(false);
  useEffect(() => {
    let live = true;
    void getProviders().then((p) => {
      if (live) setGoogle(p.google);
    });
    return () => {
      live = false;
    };
  }, []);
  if (!google) return null;
  return (
    <div className="mt-6 space-y-4">
      <div className="flex items-center gap-3 text-xs tracking-wide text-muted uppercase" aria-hidden="true">
        <span className="h-px flex-1 bg-line" />
        or
        <span className="h-px flex-1 bg-line" />
      </div>
      <form method="get" action="/api/auth/oauth/google/start" onSubmit={() => rememberNext(next)}>
        <button type="submit" className={buttonClasses({ variant: "secondary", fullWidth: true })}>
          <svg aria-hidden="true" viewBox="0 0 24 24" className="size-[1.125rem]">
            <path fill="#EA4335" d="M12 10.2v3.9h5.5c-.24 1.4-1.7 4.1-5.5 4.1-3.3 0-6-2.7-6-6.1s2.7-6.1 6-6.1c1.9 0 3.1.8 3.8 1.5l2.6-2.5C16.8 3.5 14.6 2.5 12 2.5 6.8 2.5 2.6 6.7 2.6 12s4.2 9.5 9.4 9.5c5.4 0 9-3.8 9-9.2 0-.6-.1-1.1-.2-1.6H12Z" />
          </svg>
          Continue with Google
        </button>
      </form>
    </div>
  );
}
