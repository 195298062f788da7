import type { Post } from "@/lib/api/social";
import { describeError, type ApiError } from "@/lib/axios";
import { formatDate } from "@/lib/format";

/** A reason from the server as the end of a sentence. */
function sentence(reason: string | null | undefined, fallback: string): string {
  const r = reason?.trim();
  if (!r) return fallback;
  return /[.!?]$/.test(r) ? r : `${r}.`;
}

/** A post's status line: "Scheduled for …", "Publishing…", "Published", "Failed: …", "Cancelled". */
export function postStatusWords(p: Pick<Post, "status" | "scheduled_at" | "error">): string {
  switch (p.status) {
    case "scheduled":
      return `Scheduled for ${formatDate(p.scheduled_at)}`;
    case "publishing":
      return "Publishing…";
    case "published":
      return "Published";
    case "failed":
      return `Failed: ${sentence(p.error, "unknown reason.")}`;
    case "cancelled":
      return "Cancelled";
  }
}

/** What the polite live region says when a post changes while the page is open. */
export function postChangeWords(p: Pick<Post, "status" | "title" | "error">): string {
  const name = `“${p.title}”`;
  switch (p.status) {
    case "scheduled":
      return `${name} is scheduled.`;
    case "publishing":
      return `${name} is being published.`;
    case "published":
      return `${name} is published.`;
    case "failed":
      return `${name} could not be published: ${sentence(p.error, "unknown reason.")}`;
    case "cancelled":
      return `${name} was cancelled.`;
  }
}

/** Why a post could not be created or cancelled, for the problems that are not about one field. */
export function postError(e: ApiError, platform = "YouTube"): string {
  switch (e.code) {
    case "needs_reconnect":
      return `This ${platform} account needs reconnecting before it can publish. Reconnect it in Connections.`;
    case "not_cancellable":
      return "This post is already being published and can no longer be cancelled.";
    case "not_ready":
      return "This video or clip is not ready to publish yet.";
  }
  if (e.status === 409) return sentence(e.message, "This post can no longer be changed.");
  return describeError(e);
}
