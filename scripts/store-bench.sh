#!/usr/bin/env bash
# The durable intake's cost (issue 10): `hotfix-guard serve` on SQLite and,
# when STORE_BENCH_PG_URL names a PostgreSQL database, on PostgreSQL, in one
# run, against the minimal fake GitHub on loopback:
#   - RATE (2000) deliveries/s offered open-loop for RATE_SECONDS (10) at
#     CONNECTIONS (64) connections: achieved rate, p50, p99;
#   - a burst of BURST_COUNT (10000) deliveries for BURST_PRS (10000) pull
#     requests as fast as CONNECTIONS connections go: deliveries/s from the
#     client's clock, slowest answer, GitHub calls per evaluation.
# Every delivery is the real 29 KB `pull_request` payload with a fresh
# delivery id, committed to the store before its 202.
#
#   scripts/store-bench.sh                       # SQLite only
#   STORE_BENCH_PG_URL=postgres://u:p@127.0.0.1/db scripts/store-bench.sh
#
# SKIP_BUILD=1 reuses the release build. Linux only.
set -euo pipefail
cd "$(dirname "$0")/.."

RATE=${RATE:-2000}
RATE_SECONDS=${RATE_SECONDS:-10}
CONNECTIONS=${CONNECTIONS:-64}
BURST_COUNT=${BURST_COUNT:-10000}
BURST_PRS=${BURST_PRS:-10000}
FAKE_PORT=${FAKE_PORT:-19980}
APP_PORT=${APP_PORT:-19981}
PAYLOAD=${PAYLOAD:-tests/fixtures/webhooks/pull_request.opened.4.json}
SECRET=store-bench-secret
TARGET_DIR=${CARGO_TARGET_DIR:-target}
BIN=$TARGET_DIR/release
OUT=$TARGET_DIR/store-bench
mkdir -p "$OUT"
say() { echo "store-bench: $*" >&2; }

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  cargo build --release --locked --bin hotfix-guard --example fake_github_min --example burst
fi

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
wait_http() { # port name
  for _ in $(seq 1 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/_stats" || true)
    [ "$code" != 000 ] && return 0
    sleep 0.1
  done
  say "$2 did not start"; exit 1
}

PORT=$FAKE_PORT "$BIN/examples/fake_github_min" >"$OUT/fake_github.log" 2>&1 &
PIDS+=("$!")
wait_http "$FAKE_PORT" fake_github

run() { # name database-url
  say "$1: starting serve on $1…"
  GITHUB_APP_ID=4242 GITHUB_PRIVATE_KEY_PATH=tests/fixtures/test-app-key.pem \
    GITHUB_WEBHOOK_SECRET=$SECRET GITHUB_API_URL=http://127.0.0.1:$FAKE_PORT \
    DATABASE_URL=$2 PORT=$APP_PORT RUST_LOG=warn SHUTDOWN_GRACE=2s \
    RECOVERY_INTERVAL=0s SWEEP_INTERVAL=0s \
    "$BIN/hotfix-guard" serve >"$OUT/$1.log" 2>&1 &
  local pid=$!
  wait_http "$APP_PORT" "hotfix-guard on $1"
  local rate burst
  rate=$(GITHUB_WEBHOOK_SECRET=$SECRET "$BIN/examples/burst" rate --url "http://127.0.0.1:$APP_PORT" \
    --payload "$PAYLOAD" --rps "$RATE" --seconds "$RATE_SECONDS" --concurrency "$CONNECTIONS" | grep '^RESULT')
  burst=$(GITHUB_WEBHOOK_SECRET=$SECRET "$BIN/examples/burst" many \
    --app "http://127.0.0.1:$APP_PORT" --fake "http://127.0.0.1:$FAKE_PORT" --payload "$PAYLOAD" \
    --count "$BURST_COUNT" --prs "$BURST_PRS" --concurrency "$CONNECTIONS" --first-pr 500000)
  echo "## $1"
  echo "rate: $rate"
  echo "$burst"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

rm -f "$OUT"/store.db*
run sqlite "sqlite://$OUT/store.db"
if [ -n "${STORE_BENCH_PG_URL:-}" ]; then
  run postgres "$STORE_BENCH_PG_URL"
fi
