#!/usr/bin/env bash
# Installs what a fresh machine lacks for `make dev` and `make test`:
# Azurite (npm, pinned in .ci/tools/package.json), and yt-dlp + ffmpeg
# (Debian packages). Idempotent: a second run does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .ci/tools/node_modules/.bin/azurite-blob ]; then
  echo "install: azurite (npm)"
  npm --prefix .ci/tools ci --no-audit --no-fund --loglevel=error
fi

missing=()
command -v yt-dlp >/dev/null 2>&1 || missing+=(yt-dlp)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install: missing ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "install: ${missing[*]} (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
