"use client";

import { PostsView } from "@/components/posts/PostsView";

export default function PostsPage() {
  return (
    <div className="mx-auto w-full max-w-4xl">
      <PostsView />
    </div>
  );
}
