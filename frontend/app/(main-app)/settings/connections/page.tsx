"use client";

import { Suspense } from "react";
import { Connections } from "@/components/settings/Connections";
import { Spinner } from "@/components/ui";

export default function ConnectionsPage() {
  return (
    // useSearchParams (?connected=, ?error= from the OAuth callback) needs a Suspense boundary in a static export.
    <Suspense fallback={<Spinner size="md" label="Loading your connections" />}>
      <Connections />
    </Suspense>
  );
}
