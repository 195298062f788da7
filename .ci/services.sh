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

# PostgreSQL: SERVICES_PG_PORT and SERVICES_PG_CLUSTER ("<version> <name>",
# default the newest version's "main") select another cluster, for checking
# this script against a stopped server without touching the shared one.
pg_port=${SERVICES_PG_PORT:-5432}

# pg_ready: true when PostgreSQL accepts sessions (not merely TCP: a server
# that is starting, recovering or shutting down accepts TCP and refuses
# sessions with 57P03).
pg_ready() {
  if command -v pg_isready >/dev/null; then
    pg_isready -q -h 127.0.0.1 -p "$pg_port" -t 2
  else
    up 127.0.0.1 "$pg_port"
  fi
}

if ! pg_ready; then
  if ! command -v pg_ctlcluster >/dev/null; then
    echo "services: PostgreSQL is not running on 127.0.0.1:$pg_port and pg_ctlcluster is not available; start it yourself" >&2
    exit 1
  fi
  read -r pg_version pg_name <<<"${SERVICES_PG_CLUSTER:-$(ls /etc/postgresql | sort -V | tail -n1) main}"
  echo "services: starting PostgreSQL (cluster $pg_version/$pg_name)"
  # A cluster that stopped (shut down, killed, crashed: pg_ctl clears a stale
  # pid file) is started; one still starting or shutting down is waited for
  # and started again once it is down. Only a server that stays unready for
  # a minute is an error.
  for i in $(seq 1 120); do
    pg_ready && break
    if [ $(( (i - 1) % 10 )) -eq 0 ] && ! pg_ctlcluster "$pg_version" "$pg_name" status >/dev/null 2>&1; then
      pg_ctlcluster --skip-systemctl-redirect "$pg_version" "$pg_name" start \
        || echo "services: pg_ctlcluster start failed; retrying" >&2
    fi
    sleep 0.5
  done
  if ! pg_ready; then
    echo "services: PostgreSQL ($pg_version/$pg_name) is not ready on 127.0.0.1:$pg_port after 60 s; see /var/log/postgresql/postgresql-$pg_version-$pg_name.log" >&2
    exit 1
  fi
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
