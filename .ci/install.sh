#!/usr/bin/env bash
# Installs what a fresh machine lacks for `make dev` and `make test`:
# Azurite (npm, pinned in .ci/tools/package.json), yt-dlp + ffmpeg, curl +
# jq for the README's quickstart and chromium for the frontend's end-to-end
# tests (Debian packages), and the frontend's npm packages (frontend/
# package-lock.json). Idempotent: a second run does nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .ci/tools/node_modules/.bin/azurite-blob ]; then
  echo "install: azurite (npm)"
  npm --prefix .ci/tools ci --no-audit --no-fund --loglevel=error
fi

missing=()
command -v yt-dlp >/dev/null 2>&1 || missing+=(yt-dlp)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v jq >/dev/null 2>&1 || missing+=(jq)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install: missing ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "install: ${missing[*]} (apt)"
  export DEBIAN_FRONTEND=noninteractive
  # Another apt or dpkg may be running (unattended upgrades, a second
  # install.sh): wait for its lock instead of failing at once.
  lock_wait=(-o DPkg::Lock::Timeout=600)
  # An interrupted dpkg makes every apt-get fail until it is configured.
  # dpkg itself cannot wait for the lock, so retry while it is held.
  if [ -n "$(dpkg --audit 2>/dev/null)" ]; then
    echo "install: finishing an interrupted dpkg run (dpkg --configure -a)"
    for i in $(seq 1 120); do
      if out=$(dpkg --configure -a 2>&1); then
        break
      fi
      if ! grep -qi 'lock' <<<"$out" || [ "$i" -eq 120 ]; then
        echo "$out" >&2
        exit 1
      fi
      sleep 5
    done
  fi
  apt-get "${lock_wait[@]}" update -qq
  apt-get "${lock_wait[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The frontend's packages, again whenever package-lock.json changed since the
# last install (its hash is kept in node_modules, which npm ci replaces).
lock_hash=$(sha256sum frontend/package-lock.json | cut -d' ' -f1)
stamp=frontend/node_modules/.videofn-lock-sha256
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_hash" ]; then
  echo "install: frontend npm packages (frontend/package-lock.json)"
  npm --prefix frontend ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" >"$stamp"
fi
