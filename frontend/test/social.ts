// Social accounts and posts as the API sends them, for component tests.
import type { Post, SocialAccount } from "@/lib/api/social";

export function account(id: string, over: Partial<SocialAccount> = {}): SocialAccount {
  return {
    id,
    platform: "youtube",
    external_id: `UC${id}`,
    display_name: `Channel ${id}`,
    avatar_url: "",
    scopes: ["https://www.googleapis.com/auth/youtube.upload"],
    status: "active",
    created_at: "2026-11-30T06:00:00Z",
    ...over,
  };
}

export function post(id: string, over: Partial<Post> = {}): Post {
  return {
    id,
    video_id: "v1",
    clip_id: null,
    social_account_id: "a1",
    title: `Post ${id}`,
    caption: "",
    privacy: "public",
    scheduled_at: "2026-12-01T09:00:00Z",
    status: "scheduled",
    error: null,
    external_id: null,
    external_url: null,
    published_at: null,
    created_at: "2026-11-30T06:00:00Z",
    ...over,
  };
}
