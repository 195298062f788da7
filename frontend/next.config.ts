import type { NextConfig } from "next";
import { PHASE_DEVELOPMENT_SERVER } from "next/constants";

// Development: `next dev` on :3000 forwards /api/* to the handler (API_ORIGIN,
// default http://127.0.0.1:7071), so the browser sees one origin as it does in
// production. Production: a static export (out/), served by Azure Static Web
// Apps or by the handler itself, with /api on the same origin.
export default function config(phase: string): NextConfig {
  const base: NextConfig = {
    reactStrictMode: true,
    poweredByHeader: false,
    images: { unoptimized: true },
  };
  if (phase === PHASE_DEVELOPMENT_SERVER) {
    const backend = process.env.API_ORIGIN ?? "http://127.0.0.1:7071";
    return {
      ...base,
      async rewrites() {
        return [{ source: "/api/:path*", destination: `${backend}/api/:path*` }];
      },
    };
  }
  // trailingSlash: every route is written as <route>/index.html, which any
  // static server (the handler's, Static Web Apps') serves without rules.
  return { ...base, output: "export", trailingSlash: true };
}
