"use client";
// Loaded only when someone presses "Schedule post" (next/dynamic in VideoCard and ClipList), so the
// library's first load does not carry the form.
import Link from "next/link";
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { Alert, Button, Dialog, SelectField, Spinner, TextAreaField, TextField, buttonClasses, cx, linkClasses } from "@/components/ui";
import { createPost, listAccounts, platformName, type CreatePostRequest, type Post, type PostPrivacy, type SocialAccount } from "@/lib/api/social";
import { fieldError, toApiError, type ApiError } from "@/lib/axios";
import { formatDate } from "@/lib/format";
import { localZoneName, parseLocalDateTime, toLocalInputValue } from "@/lib/posts/schedule";
import { postError } from "./postWords";

/** What is being posted: a ready video or a ready clip. */
export interface PostTarget {
  kind: "video" | "clip";
  id: string;
  title: string;
  /** A 9:16 clip: YouTube gets it as a Short. */
  vertical?: boolean;
}

export interface SchedulePostDialogProps {
  open: boolean;
  onClose: () => void;
  target: PostTarget;
}

export const TITLE_MAX = 100;
export const CAPTION_MAX = 5000;
const YEAR_MS = 365 * 24 * 60 * 60 * 1000;

const PRIVACY: readonly { value: PostPrivacy; label: string }[] = [
  { value: "public", label: "Public" },
  { value: "unlisted", label: "Unlisted" },
  { value: "private", label: "Private" },
];

type Field = "account" | "title" | "caption" | "privacy" | "when";
type Problems = Partial<Record<Field, string>>;

/** The next quarter hour at least an hour from now, as a datetime-local value: a sensible "Later". */
function suggestedTime(now: number): string {
  const quarter = 15 * 60 * 1000;
  return toLocalInputValue(new Date(Math.ceil((now + 60 * 60 * 1000) / quarter) * quarter));
}

/** The "Schedule post" dialog: account, title, caption, privacy, now or a date and time in the reader's zone. */
export default function SchedulePostDialog({ open, onClose, target }: SchedulePostDialogProps) {
  const [accounts, setAccounts] = useState<SocialAccount[]>([]);
  const [loadState, setLoadState] = useState<"loading" | "ready" | "error">("loading");
  const [loadError, setLoadError] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);

  const [accountId, setAccountId] = useState("");
  const [title, setTitle] = useState(target.title.slice(0, TITLE_MAX));
  const [caption, setCaption] = useState("");
  const [privacy, setPrivacy] = useState<PostPrivacy>("public");
  const [mode, setMode] = useState<"now" | "later">("now");
  const [when, setWhen] = useState("");
  const [problems, setProblems] = useState<Problems>({});
  const [serverError, setServerError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  /** The post made, and whether it waits for a later time. */
  const [done, setDone] = useState<{ post: Post; later: boolean } | null>(null);

  const formId = useId();
  const accountRef = useRef<HTMLSelectElement>(null);
  const titleRef = useRef<HTMLInputElement>(null);
  const captionRef = useRef<HTMLTextAreaElement>(null);
  const privacyRef = useRef<HTMLSelectElement>(null);
  const whenRef = useRef<HTMLInputElement>(null);

  /** Moves focus to the first field with a problem; returns whether there was one. */
  const focusFirstProblem = (p: Problems): boolean => {
    const order: [Field, { current: HTMLElement | null }][] = [
      ["account", accountRef],
      ["title", titleRef],
      ["caption", captionRef],
      ["privacy", privacyRef],
      ["when", whenRef],
    ];
    const first = order.find(([f]) => p[f]);
    first?.[1].current?.focus();
    return first !== undefined;
  };

  useEffect(() => {
    if (!open) return;
    const controller = new AbortController();
    listAccounts(controller.signal)
      .then((list) => {
        setAccounts(list);
        setAccountId((current) => (list.some((a) => a.id === current && a.status === "active") ? current : (list.find((a) => a.status === "active")?.id ?? "")));
        setLoadState("ready");
      })
      .catch((err: unknown) => {
        if (controller.signal.aborted) return;
        setLoadError(postError(toApiError(err)));
        setLoadState("error");
      });
    return () => controller.abort();
  }, [open, generation]);

  const usable = accounts.filter((a) => a.status === "active");
  const account = accounts.find((a) => a.id === accountId);
  const platform = platformName(account?.platform ?? "youtube");

  const close = () => {
    if (busy) return;
    setProblems({});
    setServerError(null);
    if (done) {
      // Posted: the next opening starts a new post (the account and privacy are kept).
      setDone(null);
      setTitle(target.title.slice(0, TITLE_MAX));
      setCaption("");
      setMode("now");
      setWhen("");
    }
    onClose();
  };

  const check = (): Problems => {
    const p: Problems = {};
    if (!accountId) p.account = "Choose an account to publish to.";
    if (!title.trim()) p.title = "Enter a title.";
    else if (title.trim().length > TITLE_MAX) p.title = `The title must be at most ${TITLE_MAX} characters.`;
    else if (/[<>]/.test(title)) p.title = "The title cannot contain < or > (YouTube refuses them).";
    // The API counts the caption in UTF-8 bytes, as YouTube does.
    if (new TextEncoder().encode(caption.trim()).length > CAPTION_MAX) p.caption = `The caption is too long: at most ${CAPTION_MAX} bytes (fewer characters with emoji or accents).`;
    if (mode === "later") {
      const at = parseLocalDateTime(when);
      if (!when.trim()) p.when = "Enter the date and time to publish.";
      else if (!at) p.when = "Enter a valid date and time.";
      else if (at.getTime() <= Date.now()) p.when = "That time has already passed. Choose a time in the future.";
      else if (at.getTime() > Date.now() + YEAR_MS) p.when = "Choose a time within a year from now.";
    }
    return p;
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    const found = check();
    setProblems(found);
    setServerError(null);
    if (focusFirstProblem(found)) return;
    const at = mode === "later" ? parseLocalDateTime(when) : null;
    const common = {
      social_account_id: accountId,
      title: title.trim(),
      caption: caption.trim(),
      privacy,
      ...(at ? { scheduled_at: at.toISOString() } : {}),
    };
    const body: CreatePostRequest = target.kind === "video" ? { video_id: target.id, ...common } : { clip_id: target.id, ...common };
    setBusy(true);
    try {
      setDone({ post: await createPost(body), later: at !== null });
    } catch (err) {
      const apiError = toApiError(err);
      const fromServer = serverProblems(apiError);
      setProblems(fromServer);
      const unplaced = Object.keys(apiError.fields).some((k) => !(k in SERVER_FIELDS));
      const placed = focusFirstProblem(fromServer);
      if (!placed || unplaced) setServerError(postError(apiError, platform));
    } finally {
      setBusy(false);
    }
  };

  const describedTitle = `“${target.title}”`;

  return (
    <Dialog
      open={open}
      onClose={close}
      title="Schedule post"
      description={<>Publish {target.kind === "clip" ? "the clip" : "the video"} {describedTitle} to a connected account.</>}
    >
      {done ? (
        <div className="flex flex-col gap-4">
          <Alert tone="success">
            {done.later
              ? `Scheduled for ${formatDate(done.post.scheduled_at)}.`
              : `Publishing to ${platform} now.`}{" "}
            Follow it on the{" "}
            <Link href="/posts/" className={linkClasses}>
              Posts
            </Link>{" "}
            page.
          </Alert>
          <div className="flex justify-end">
            <Button onClick={close} autoFocus>
              Done
            </Button>
          </div>
        </div>
      ) : loadState === "loading" ? (
        <div className="grid min-h-40 place-items-center">
          <Spinner size="md" label="Loading your accounts" />
        </div>
      ) : loadState === "error" ? (
        <Alert
          tone="error"
          title="Your accounts could not be loaded"
          action={
            <Button
              size="sm"
              variant="secondary"
              onClick={() => {
                setLoadState("loading");
                setGeneration((g) => g + 1);
              }}
            >
              Try again
            </Button>
          }
        >
          {loadError}
        </Alert>
      ) : usable.length === 0 ? (
        <div className="flex flex-col gap-4">
          <p className="text-sm text-ink">
            {accounts.length > 0
              ? "Your connected accounts need reconnecting before they can publish."
              : "You have no connected account to publish to yet."}{" "}
            Connect one first.
          </p>
          <div className="flex flex-col-reverse gap-2 sm:flex-row sm:justify-end">
            <Button variant="secondary" onClick={close}>
              Close
            </Button>
            <Link href="/settings/connections/" className={buttonClasses({ variant: "primary" })}>
              Go to Connections
            </Link>
          </div>
        </div>
      ) : (
        <form id={formId} noValidate onSubmit={(e) => void submit(e)} className="flex flex-col gap-4">
          <SelectField ref={accountRef} label="Account" value={accountId} onChange={(e) => setAccountId(e.target.value)} error={problems.account} required>
            {accounts.map((a) => (
              <option key={a.id} value={a.id} disabled={a.status !== "active"}>
                {a.display_name} ({platformName(a.platform)}){a.status !== "active" ? " · needs reconnecting" : ""}
              </option>
            ))}
          </SelectField>
          <TextField
            ref={titleRef}
            label="Title"
            value={title}
            onChange={(e) => setTitle(e.target.value)}
            maxLength={TITLE_MAX}
            required
            error={problems.title}
            hint={target.vertical ? `Up to ${TITLE_MAX} characters. #Shorts is added for this vertical clip.` : `Up to ${TITLE_MAX} characters.`}
          />
          <TextAreaField
            ref={captionRef}
            label="Caption"
            value={caption}
            onChange={(e) => setCaption(e.target.value)}
            maxLength={CAPTION_MAX}
            rows={3}
            error={problems.caption}
            hint="The description under the video. Optional."
          />
          <SelectField ref={privacyRef} label="Privacy" value={privacy} onChange={(e) => setPrivacy(e.target.value as PostPrivacy)} error={problems.privacy}>
            {PRIVACY.map((p) => (
              <option key={p.value} value={p.value}>
                {p.label}
              </option>
            ))}
          </SelectField>
          <fieldset className="flex flex-col gap-2">
            <legend className="mb-1.5 text-sm font-medium text-ink">Publish</legend>
            <div className="flex gap-6">
              {(["now", "later"] as const).map((m) => (
                <label key={m} className="inline-flex min-h-10 cursor-pointer items-center gap-2 text-sm text-ink">
                  <input
                    type="radio"
                    name={`${formId}-mode`}
                    value={m}
                    checked={mode === m}
                    onChange={() => {
                      setMode(m);
                      if (m === "later" && !when) setWhen(suggestedTime(Date.now()));
                    }}
                    className="size-4 accent-[var(--color-accent)]"
                  />
                  {m === "now" ? "Now" : "Later"}
                </label>
              ))}
            </div>
            {/* Always in the layout, hidden while "Now": the dialog does not change height. */}
            <div className={cx(mode === "now" && "invisible")} aria-hidden={mode === "now" || undefined}>
              <TextField
                ref={whenRef}
                label="Date and time"
                type="datetime-local"
                value={when}
                onChange={(e) => setWhen(e.target.value)}
                disabled={mode === "now"}
                required={mode === "later"}
                error={problems.when}
                hint={`In your time zone (${localZoneName()}).`}
              />
            </div>
          </fieldset>
          {serverError && <Alert tone="error">{serverError}</Alert>}
          <div className="flex flex-col-reverse gap-2 sm:flex-row sm:justify-end">
            <Button variant="secondary" onClick={close} disabled={busy}>
              Cancel
            </Button>
            <Button type="submit" loading={busy}>
              {mode === "later" ? "Schedule" : "Publish now"}
            </Button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

/** The API's field names → the form's fields and their labels. */
const SERVER_FIELDS: Record<string, { field: Field; label: string }> = {
  social_account_id: { field: "account", label: "Account" },
  title: { field: "title", label: "Title" },
  caption: { field: "caption", label: "Caption" },
  privacy: { field: "privacy", label: "Privacy" },
  scheduled_at: { field: "when", label: "Date and time" },
};

function serverProblems(e: ApiError): Problems {
  const p: Problems = {};
  for (const [name, { field, label }] of Object.entries(SERVER_FIELDS)) {
    const text = fieldError(e, name, label);
    if (text) p[field] = text;
  }
  return p;
}
