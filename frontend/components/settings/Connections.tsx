"use client";

import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { useCallback, useEffect, useId, useRef, useState } from "react";
import { Alert, Button, Card, ConfirmDialog, Spinner, linkClasses } from "@/components/ui";
import {
  disconnectAccount,
  listAccounts,
  listPlatforms,
  platformName,
  startConnect,
  type SocialAccount,
  type SocialPlatform,
} from "@/lib/api/social";
import { describeError, toApiError } from "@/lib/axios";
import { leaveTo } from "@/lib/navigate";

/** What the callback's `?error=<code>` means, for the person who just came back. */
function connectErrorWords(code: string, platform: string): string {
  switch (code) {
    case "access_denied":
      return `${platform} access was not granted, so nothing was connected.`;
    case "invalid_state":
    case "invalid_request":
      return "The connection took too long or was started elsewhere. Try again.";
    case "not_configured":
    case "platform_not_configured":
    case "unknown_platform":
      return `${platform} cannot be connected on this server.`;
    case "provider_error":
    case "exchange_failed":
      return `${platform} did not complete the connection. Try again in a moment.`;
    case "server_error":
      return "Something went wrong on our side while connecting. Try again in a moment.";
    case "no_channel":
      return "That Google account has no YouTube channel. Create one on YouTube, then connect again.";
  }
  return `The account could not be connected (${code}). Try again.`;
}

type Outcome = { tone: "success" | "error"; text: string } | null;

/** The result of the OAuth round trip, read once from the URL (`?connected=youtube`, `?error=…`). */
function outcomeOf(params: URLSearchParams): Outcome {
  const connected = params.get("connected");
  const error = params.get("error");
  const platform = platformName(params.get("platform") ?? connected ?? "youtube");
  if (error) return { tone: "error", text: connectErrorWords(error, platform) };
  if (connected) return { tone: "success", text: `${platformName(connected)} connected.` };
  return null;
}

/**
 * The Connections page: each platform the backend offers, with its accounts and their state;
 * connect (a round trip through the platform's consent page), reconnect, disconnect.
 */
export function Connections() {
  const params = useSearchParams();
  const [outcome] = useState<Outcome>(() => outcomeOf(params));
  const [platforms, setPlatforms] = useState<SocialPlatform[]>([]);
  const [accounts, setAccounts] = useState<SocialAccount[]>([]);
  const [status, setStatus] = useState<"loading" | "ready" | "error">("loading");
  const [error, setError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  const [toDisconnect, setToDisconnect] = useState<SocialAccount | null>(null);
  const [announcement, setAnnouncement] = useState("");
  const heading = useRef<HTMLHeadingElement>(null);

  // The result is shown once; a reload of the page should not say it again.
  useEffect(() => {
    if (outcome && window.location.search) window.history.replaceState(window.history.state, "", window.location.pathname);
  }, [outcome]);

  useEffect(() => {
    const controller = new AbortController();
    Promise.all([listPlatforms(controller.signal), listAccounts(controller.signal)])
      .then(([p, a]) => {
        setPlatforms(p);
        setAccounts(a);
        setStatus("ready");
      })
      .catch((err: unknown) => {
        if (controller.signal.aborted) return;
        setError(describeError(toApiError(err)));
        setStatus("error");
      });
    return () => controller.abort();
  }, [generation]);

  const reload = useCallback(() => {
    setStatus("loading");
    setError(null);
    setGeneration((g) => g + 1);
  }, []);

  // Accounts of a platform the server no longer lists still show, so they can be disconnected.
  const shown = [...platforms];
  for (const a of accounts) {
    if (!shown.some((p) => p.id === a.platform)) shown.push({ id: a.platform, name: platformName(a.platform), configured: false });
  }

  return (
    <div className="mx-auto max-w-4xl space-y-6">
      <div className="space-y-1">
        <Link href="/settings/" className={`${linkClasses} text-sm`}>
          Settings
        </Link>
        <h1 ref={heading} tabIndex={-1} className="text-2xl font-semibold tracking-tight text-ink focus:outline-none sm:text-3xl">
          Connections
        </h1>
        <p className="text-sm text-muted">The social media accounts Videofn can publish your videos and clips to.</p>
      </div>

      <p aria-live="polite" className="sr-only">
        {announcement}
      </p>
      {outcome && <Alert tone={outcome.tone}>{outcome.text}</Alert>}

      {status === "loading" && (
        <Card className="grid min-h-32 place-items-center">
          <Spinner size="md" label="Loading your connections" />
        </Card>
      )}
      {status === "error" && (
        <Alert
          tone="error"
          title="Your connections could not be loaded"
          action={
            <Button size="sm" variant="secondary" onClick={reload}>
              Try again
            </Button>
          }
        >
          {error}
        </Alert>
      )}
      {status === "ready" && shown.length === 0 && (
        <Card>
          <p className="text-sm text-muted">No platforms are available on this server yet.</p>
        </Card>
      )}
      {status === "ready" &&
        shown.map((p) => (
          <PlatformRow key={p.id} platform={p} accounts={accounts.filter((a) => a.platform === p.id)} onDisconnect={setToDisconnect} />
        ))}

      <DisconnectDialog
        account={toDisconnect}
        onClose={() => setToDisconnect(null)}
        onDisconnected={(a) => {
          setToDisconnect(null);
          setAccounts((list) => list.filter((x) => x.id !== a.id));
          setAnnouncement(`${a.display_name} disconnected.`);
          heading.current?.focus(); // the button that had focus is gone
        }}
      />
    </div>
  );
}

interface PlatformRowProps {
  platform: SocialPlatform;
  accounts: SocialAccount[];
  onDisconnect: (a: SocialAccount) => void;
}

function PlatformRow({ platform, accounts, onDisconnect }: PlatformRowProps) {
  const headingId = useId();
  const [connecting, setConnecting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const needsReconnect = accounts.some((a) => a.status === "needs_reconnect");

  // Back from the consent page, the browser may show this page from its cache, button still busy.
  useEffect(() => {
    const onShow = (e: PageTransitionEvent) => {
      if (e.persisted) setConnecting(false);
    };
    window.addEventListener("pageshow", onShow);
    return () => window.removeEventListener("pageshow", onShow);
  }, []);

  const connect = async () => {
    setConnecting(true);
    setError(null);
    try {
      leaveTo(await startConnect(platform.id));
      // The page is going away: the button stays busy until it does.
    } catch (err) {
      setError(describeError(toApiError(err)));
      setConnecting(false);
    }
  };

  return (
    <Card as="section" aria-labelledby={headingId} className="space-y-4">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h2 id={headingId} className="text-base font-semibold text-ink">
          {platform.name}
        </h2>
        {platform.configured && (accounts.length === 0 || needsReconnect) && (
          <Button size="sm" variant={needsReconnect ? "primary" : "secondary"} loading={connecting} onClick={() => void connect()}>
            {needsReconnect ? `Reconnect ${platform.name}` : `Connect ${platform.name}`}
          </Button>
        )}
      </div>
      {accounts.length === 0 ? (
        <p className="text-sm text-muted">
          Not connected
          {!platform.configured && <span> · {platform.name} is not set up on this server.</span>}
        </p>
      ) : (
        <ul className="flex flex-col gap-3">
          {accounts.map((a) => (
            <AccountItem key={a.id} account={a} onDisconnect={onDisconnect} />
          ))}
        </ul>
      )}
      {error && <Alert tone="error">{error}</Alert>}
    </Card>
  );
}

function AccountItem({ account, onDisconnect }: { account: SocialAccount; onDisconnect: (a: SocialAccount) => void }) {
  const [broken, setBroken] = useState(false);
  const initial = account.display_name.trim().charAt(0).toUpperCase() || "?";
  return (
    <li className="flex flex-wrap items-center gap-3 rounded-lg border border-line bg-canvas/40 p-3">
      <span aria-hidden="true" className="grid size-10 shrink-0 place-items-center overflow-hidden rounded-full bg-raised text-sm font-semibold text-muted">
        {account.avatar_url && !broken ? (
          // eslint-disable-next-line @next/next/no-img-element -- the platform's avatar; static export has no image optimizer
          <img src={account.avatar_url} alt="" className="size-full object-cover" referrerPolicy="no-referrer" onError={() => setBroken(true)} />
        ) : (
          initial
        )}
      </span>
      {/* At least 12rem for the words: on a phone the button wraps to its own line instead of squeezing them. */}
      <div className="min-w-48 flex-1">
        <p className="truncate text-sm font-medium text-ink" title={account.display_name}>
          {account.status === "active" ? `Connected as ${account.display_name}` : account.display_name}
        </p>
        {account.status === "needs_reconnect" && (
          <p className="text-sm text-warning">
            <span className="font-medium">Needs reconnecting</span>
            <span className="text-muted"> · Videofn cannot post here until you reconnect.</span>
          </p>
        )}
      </div>
      <Button size="sm" variant="ghost" className="ml-auto" onClick={() => onDisconnect(account)}>
        Disconnect {account.display_name}
      </Button>
    </li>
  );
}

interface DisconnectDialogProps {
  account: SocialAccount | null;
  onClose: () => void;
  onDisconnected: (a: SocialAccount) => void;
}

function DisconnectDialog({ account, onClose, onDisconnected }: DisconnectDialogProps) {
  const name = account?.display_name ?? "";

  const confirm = async () => {
    if (!account) return;
    try {
      await disconnectAccount(account.id);
    } catch (err) {
      return describeError(toApiError(err));
    }
    onDisconnected(account);
  };

  return (
    <ConfirmDialog
      open={account !== null}
      onClose={onClose}
      onConfirm={confirm}
      title={`Disconnect ${name}?`}
      description={
        account ? (
          <>
            Videofn will stop publishing to {name} on {platformName(account.platform)} and ask {platformName(account.platform)} to revoke
            its access. Posts scheduled to this account will not be published.
          </>
        ) : undefined
      }
      confirmLabel="Disconnect"
    />
  );
}
