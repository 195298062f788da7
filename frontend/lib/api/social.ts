// Social accounts and posts (issue 12): the calls the pages make, through the one `api` instance.
// Their types are aliases of the generated schema (lib/api/types.ts).
import { api } from "@/lib/axios";
import type {
  ConnectStart,
  CreatePostRequest,
  Post,
  PostPage,
  PostResponse,
  PostStatus,
  PlatformList,
  SocialAccount,
  SocialAccountList,
  SocialPlatform,
} from "./types";

export type { SocialAccount, SocialAccountStatus, SocialPlatform } from "./types";

export type { CreatePostRequest, Post, PostPage, PostPrivacy, PostResponse, PostStatus } from "./types";

/** Names of the platforms for sentences ("View on YouTube") when the platform list is not at hand. */
export const PLATFORM_NAMES: Readonly<Record<string, string>> = { youtube: "YouTube" };

export function platformName(id: string): string {
  return PLATFORM_NAMES[id] ?? id.charAt(0).toUpperCase() + id.slice(1);
}

export async function listPlatforms(signal?: AbortSignal): Promise<SocialPlatform[]> {
  return (await api.get<PlatformList>("/social-accounts/platforms", { signal })).data.platforms;
}

export async function listAccounts(signal?: AbortSignal): Promise<SocialAccount[]> {
  return (await api.get<SocialAccountList>("/social-accounts", { signal })).data.items;
}

/**
 * Starts connecting an account: the server answers with the platform's authorize URL. Refuses a URL
 * that is not http(s), so an odd answer can never run script in this page.
 */
export async function startConnect(platform: string): Promise<string> {
  const { data } = await api.post<ConnectStart>(`/social-accounts/${encodeURIComponent(platform)}/connect`);
  const url = new URL(data.authorize_url);
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error("The server sent an unusable sign-in address.");
  return url.href;
}

export async function disconnectAccount(id: string): Promise<void> {
  await api.delete(`/social-accounts/${encodeURIComponent(id)}`);
}

export async function createPost(body: CreatePostRequest): Promise<Post> {
  return (await api.post<PostResponse>("/posts", body)).data.post;
}

export async function getPost(id: string, signal?: AbortSignal): Promise<Post> {
  return (await api.get<PostResponse>(`/posts/${encodeURIComponent(id)}`, { signal })).data.post;
}

export async function cancelPost(id: string): Promise<Post> {
  return (await api.post<PostResponse>(`/posts/${encodeURIComponent(id)}/cancel`)).data.post;
}

/** The "Upcoming" and "Past" views of the posts page, as the statuses each one lists. */
export const POST_VIEWS = {
  upcoming: ["scheduled", "publishing"],
  past: ["published", "failed", "cancelled"],
} as const satisfies Record<string, readonly PostStatus[]>;
export type PostView = keyof typeof POST_VIEWS;

/** GET /api/posts: one page of the user's posts of one status, newest first. */
export async function listPosts(
  opts: { status: PostStatus; cursor?: string | null; limit?: number },
  signal?: AbortSignal,
): Promise<PostPage> {
  const params: Record<string, string | number> = { status: opts.status, limit: opts.limit ?? 20 };
  if (opts.cursor) params.cursor = opts.cursor;
  return (await api.get<PostPage>("/posts", { params, signal })).data;
}
