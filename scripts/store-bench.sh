#!/usr/bin/env bash
# The durable intake's cost (issue 10): `hotfix-guard serve` on SQLite and,
# when STORE_BENCH_PG_URL names a PostgreSQL database, on PostgreSQL, in one
# run, against the minimal fake GitHub on loopback:
#   - RATE (2000) deliveries/s offered open-loop for RATE_SECONDS (10) at
#     CONNECTIONS (64) connections: achieved rate, p50, p99;
#   - a burst of BURST_COUNT (10000) deliveries for BURST_PRS (10000) pull
#     requests as fast as CONNECTIONS connections go: deliveries/s from the
#     client's clock, p50/p99/max answer, GitHub calls per evaluation.
# Every delivery is the real 29 KB `pull_request` payload with a fresh
# delivery id, committed to the store before its 202.
#
# Side by side, in the same run (the machine is shared: compare rows of one
# run, not figures of different runs):
#   - INMEM_REF=<commit>: also the old in-memory intake, i.e. hotfix-guard
#     as it was at that commit (before the store; afbee31 is the last one),
#     built from `git archive` into $OUT/inmem-src with the same target
#     directory. The switch lives here, in the bench only.
#   - OTHER_BINS="name=path …": also other builds of the durable binary
#     (say, the one before a change), each on the same backends, in rows
#     named sqlite-NAME and postgres-NAME.
#   - ROUNDS (1): the whole set repeated, rows interleaved, so that a burst
#     of load from elsewhere hits every variant alike.
#
#   scripts/store-bench.sh                       # SQLite only
#   STORE_BENCH_PG_URL=postgres://u:p@127.0.0.1/db INMEM_REF=afbee31 \
#     OTHER_BINS="before=/tmp/hotfix-guard-before" ROUNDS=2 scripts/store-bench.sh
#
# SKIP_BUILD=1 reuses the release builds. Linux only.
set -euo pipefail
cd "$(dirname "$0")/.."

RATE=${RATE:-2000}
RATE_SECONDS=${RATE_SECONDS:-10}
CONNECTIONS=${CONNECTIONS:-64}
BURST_COUNT=${BURST_COUNT:-10000}
BURST_PRS=${BURST_PRS:-10000}
ROUNDS=${ROUNDS:-1}
FAKE_PORT=${FAKE_PORT:-19980}
APP_PORT=${APP_PORT:-19981}
PAYLOAD=${PAYLOAD:-tests/fixtures/webhooks/pull_request.opened.4.json}
SECRET=store-bench-secret
TARGET_DIR=$(realpath -m "${CARGO_TARGET_DIR:-target}")
BIN=$TARGET_DIR/release
OUT=$TARGET_DIR/store-bench
mkdir -p "$OUT"
say() { echo "store-bench: $*" >&2; }

INMEM_BIN=""
if [ -n "${INMEM_REF:-}" ]; then
  INMEM_BIN=$OUT/hotfix-guard-inmem
  if [ "${SKIP_BUILD:-0}" != 1 ]; then
    # First, so that the current build below is the one left in $BIN.
    rm -rf "$OUT/inmem-src" && mkdir -p "$OUT/inmem-src"
    git archive "$INMEM_REF" | tar -x -C "$OUT/inmem-src"
    (cd "$OUT/inmem-src" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --release --locked --bin hotfix-guard)
    cp "$BIN/hotfix-guard" "$INMEM_BIN"
  fi
fi
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

FIRST_PR=500000
run() { # name binary database-url (empty: the binary keeps no store)
  say "$1: starting serve…"
  GITHUB_APP_ID=4242 GITHUB_PRIVATE_KEY_PATH=tests/fixtures/test-app-key.pem \
    GITHUB_WEBHOOK_SECRET=$SECRET GITHUB_API_URL=http://127.0.0.1:$FAKE_PORT \
    DATABASE_URL=$3 PORT=$APP_PORT RUST_LOG=warn SHUTDOWN_GRACE=2s \
    RECOVERY_INTERVAL=0s SWEEP_INTERVAL=0s \
    "$2" serve >"$OUT/$1.log" 2>&1 &
  local pid=$!
  # Killed on any exit too: a failed row must not leave its server holding
  # the port for the next run.
  PIDS+=("$pid")
  wait_http "$APP_PORT" "hotfix-guard ($1)"
  local rate burst
  rate=$(GITHUB_WEBHOOK_SECRET=$SECRET "$BIN/examples/burst" rate --url "http://127.0.0.1:$APP_PORT" \
    --payload "$PAYLOAD" --rps "$RATE" --seconds "$RATE_SECONDS" --concurrency "$CONNECTIONS" | grep '^RESULT')
  burst=$(GITHUB_WEBHOOK_SECRET=$SECRET "$BIN/examples/burst" many \
    --app "http://127.0.0.1:$APP_PORT" --fake "http://127.0.0.1:$FAKE_PORT" --payload "$PAYLOAD" \
    --count "$BURST_COUNT" --prs "$BURST_PRS" --concurrency "$CONNECTIONS" --first-pr "$FIRST_PR")
  FIRST_PR=$((FIRST_PR + BURST_PRS))
  echo "## $1"
  # The machine may be shared: the load average with every row.
  echo "load (1/5/15 min) after the row: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "rate: $rate"
  echo "$burst"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

# A fresh SQLite file and PostgreSQL schema per row: every row starts empty.
fresh_pg() { # tag
  local schema=bench_$1_$$
  psql -q "$STORE_BENCH_PG_URL" -c "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema" >&2
  local sep='?'; case $STORE_BENCH_PG_URL in *\?*) sep='&';; esac
  echo "$STORE_BENCH_PG_URL${sep}options[search_path]=$schema"
}

for round in $(seq 1 "$ROUNDS"); do
  say "round $round of $ROUNDS"
  if [ -n "$INMEM_BIN" ]; then
    run "in-memory.$round" "$INMEM_BIN" ""
  fi
  for other in ${OTHER_BINS:-}; do
    rm -f "$OUT/${other%%=*}.db"*
    run "sqlite-${other%%=*}.$round" "${other#*=}" "sqlite://$OUT/${other%%=*}.db"
  done
  rm -f "$OUT"/store.db*
  run "sqlite.$round" "$BIN/hotfix-guard" "sqlite://$OUT/store.db"
  if [ -n "${STORE_BENCH_PG_URL:-}" ]; then
    for other in ${OTHER_BINS:-}; do
      run "postgres-${other%%=*}.$round" "${other#*=}" "$(fresh_pg "${other%%=*}")"
    done
    run "postgres.$round" "$BIN/hotfix-guard" "$(fresh_pg current)"
  fi
done
