#!/usr/bin/env bash
# Makes sure PostgreSQL, Redis and Azurite answer, starting any that do not.
# PostgreSQL and Redis are the machine's own services (started with the
# machine's commands when stopped); Azurite runs from .ci/tools.
#   services.sh          Azurite in memory (tests)
#   services.sh --dev    Azurite persisting to .azurite/ (make dev)
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}

# up HOST PORT: true when something accepts TCP connections there.
up() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_for() { # NAME HOST PORT SECONDS
  for _ in $(seq 1 $(( $4 * 10 ))); do
    up "$2" "$3" && return 0
    sleep 0.1
  done
  echo "services: $1 did not come up on $2:$3 within $4 s" >&2
  return 1
}

if ! up 127.0.0.1 5432; then
  echo "services: starting PostgreSQL"
  if command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start
  else
    echo "services: PostgreSQL is not running on 127.0.0.1:5432 and pg_ctlcluster is not available; start it yourself" >&2
    exit 1
  fi
  wait_for PostgreSQL 127.0.0.1 5432 30
fi

if ! up 127.0.0.1 6379; then
  echo "services: starting Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for Redis 127.0.0.1 6379 15
fi

if ! up 127.0.0.1 10000; then
  mkdir -p .azurite
  if [ "$mode" = "--dev" ]; then
    echo "services: starting Azurite (blob, queue, table; data in .azurite/)"
    nohup .ci/tools/node_modules/.bin/azurite --silent --skipApiVersionCheck --loose \
      --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 \
      --location .azurite >.azurite/azurite.log 2>&1 &
  else
    echo "services: starting Azurite (blob, in memory)"
    nohup .ci/tools/node_modules/.bin/azurite-blob --silent --skipApiVersionCheck --loose \
      --blobHost 127.0.0.1 --inMemoryPersistence >.azurite/azurite.log 2>&1 &
  fi
  echo $! >.azurite/pid
  wait_for Azurite 127.0.0.1 10000 30
fi
echo "services: PostgreSQL, Redis and Azurite are up"
