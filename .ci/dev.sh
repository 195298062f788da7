#!/usr/bin/env bash
# `make dev`, last step: runs the handler (bin/handler serve, the settings in
# the environment) and `next dev` (frontend/, http://localhost:3000, /api/*
# rewritten to the handler) together. Ctrl-C, or either one stopping, stops
# both: the handler gets SIGTERM and its bounded shutdown (SHUTDOWN_GRACE +
# 7 s), next dev gets SIGTERM too; the script waits for both.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d frontend/node_modules ]; then
  echo "dev: installing the frontend's packages (npm ci in frontend/)"
  npm --prefix frontend ci --no-audit --no-fund
fi

port=${FUNCTIONS_CUSTOMHANDLER_PORT:-7071}
export API_ORIGIN=${API_ORIGIN:-http://127.0.0.1:$port}

pids=()
stop() {
  trap '' INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM

bin/handler serve &
pids+=($!)
# next directly, not through npm, so the signal reaches the server itself.
(cd frontend && exec node_modules/.bin/next dev --port 3000) &
pids+=($!)
echo "dev: API on http://127.0.0.1:$port, frontend on http://localhost:3000 (Ctrl-C stops both)"

# Whichever stops first (a crash, a port in use) stops the other.
status=0
wait -n "${pids[@]}" || status=$?
stop
exit "$status"
