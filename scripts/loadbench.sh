#!/usr/bin/env bash
# The load benchmark (issue 6), one command from a clean clone:
#
#   scripts/loadbench.sh
#
# Builds hotfix-guard and the helpers in release, then on loopback only:
#   1. starts a minimal fake GitHub (examples/fake_github_min.rs), the floor
#      (examples/floor.rs: a bare axum server that only reads the body and
#      checks the HMAC) and `hotfix-guard serve` pointed at the fake;
#   2. load: wrk at CONNECTIONS connections for DURATION against each server
#      in turn, every request the same real 29 KB `pull_request` delivery,
#      signed, with a fresh X-GitHub-Delivery; reports deliveries/s, p50,
#      p99, non-2xx, CPU used and peak RSS (VmHWM) for both, and the ratio;
#      then RATE (2000) deliveries/s offered open-loop for RATE_SECONDS (10),
#      for the answer time at a load below saturation;
#   3. burst: 10,000 deliveries for 10,000 pull requests as fast as 64
#      connections go (none lost, none answered after 1 s, memory bounded);
#      then the same into a second hotfix-guard whose queue holds only
#      SMALL_QUEUE (1000) pull requests while the fake GitHub answers in
#      GITHUB_LATENCY_MS, so the queue fills: 503s, still none lost;
#   4. one pull request: 100 deliveries within 100 ms (at most 3 evaluations,
#      one of them on the final head commit), once with the fake GitHub
#      answering at loopback speed and once taking GITHUB_LATENCY_MS (50) per
#      call, closer to github.com.
#
# Settings (environment): DURATION (10s), CONNECTIONS (64), THREADS (2),
# PAYLOAD (tests/fixtures/webhooks/pull_request.opened.4.json), APP_LOG
# (RUST_LOG for hotfix-guard, default info as deployed), RATE (2000),
# RATE_SECONDS (10), BURST_COUNT (10000), BURST_PRS (10000),
# GITHUB_LATENCY_MS (50), SMALL_QUEUE (1000), FAKE_PORT/FLOOR_PORT/APP_PORT/
# APP2_PORT (19990/19991/19992/19993), PIN (0: the kernel places
# everything; 1: servers on CPU 0, the rest on the other CPUs), SKIP_BUILD=1.
# Results also go to $CARGO_TARGET_DIR/loadbench/results.md (default
# target/). Linux only: CPU time and peak RSS come from /proc.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
PAYLOAD=${PAYLOAD:-tests/fixtures/webhooks/pull_request.opened.4.json}
APP_LOG=${APP_LOG:-info}
BURST_COUNT=${BURST_COUNT:-10000}
BURST_PRS=${BURST_PRS:-10000}
GITHUB_LATENCY_MS=${GITHUB_LATENCY_MS:-50}
RATE=${RATE:-2000}
RATE_SECONDS=${RATE_SECONDS:-10}
SMALL_QUEUE=${SMALL_QUEUE:-1000}
FAKE_PORT=${FAKE_PORT:-19990}
FLOOR_PORT=${FLOOR_PORT:-19991}
APP_PORT=${APP_PORT:-19992}
APP2_PORT=${APP2_PORT:-19993}
SECRET=loadbench-secret
TARGET_DIR=${CARGO_TARGET_DIR:-target}
BIN=$TARGET_DIR/release
OUT=$TARGET_DIR/loadbench
mkdir -p "$OUT"
rm -f "$OUT"/store-*.db*  # each run starts from an empty store

say() { printf '%s\n' "$*" >&2; }

# --- the load generator ----------------------------------------------------
if ! command -v wrk >/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    say "installing wrk (Debian package)"
    apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  elif command -v apt-get >/dev/null && command -v sudo >/dev/null; then
    sudo apt-get install -y -qq wrk >/dev/null
  fi
fi
command -v wrk >/dev/null || { say "wrk is needed: apt-get install wrk (or brew install wrk)"; exit 1; }

# --- build ------------------------------------------------------------------
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  say "building (release)…"
  cargo build --release --locked --quiet --bin hotfix-guard \
    --example floor --example fake_github_min --example burst
fi

# --- where things run --------------------------------------------------------
# By default the kernel places everything, as on a deployment, so wrk (which
# builds every 29 KB request in Lua) competes with the server it measures:
# "deliveries per CPU-second" (the server's own CPU time) is the per-core
# figure. PIN=1 gives the servers CPU 0 to themselves (tokio then runs one
# worker thread) and the load generator and the fake GitHub the others.
SERVER_ON=""; CLIENT_ON=""; PLACEMENT="unpinned (the kernel places servers, wrk and the fake GitHub)"
if [ "${PIN:-0}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  SERVER_ON="taskset -c 0"; CLIENT_ON="taskset -c 1-$(($(nproc) - 1))"
  PLACEMENT="servers pinned to CPU 0, wrk/clients/fake GitHub to CPUs 1-$(($(nproc) - 1))"
fi

# --- start the servers --------------------------------------------------------
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$FAKE_PORT" "$FLOOR_PORT" "$APP_PORT" "$APP2_PORT"; do
  port_free "$port" || { say "port $port is in use; set FAKE_PORT/FLOOR_PORT/APP_PORT"; exit 1; }
done

wait_http() { # port name [path]
  for _ in $(seq 1 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1${3:-/}" || true)
    [ "$code" != 000 ] && return 0
    sleep 0.1
  done
  say "$2 did not start; see $OUT/$2.log"; exit 1
}

PORT=$FAKE_PORT $CLIENT_ON "$BIN/examples/fake_github_min" >"$OUT/fake_github.log" 2>&1 &
FAKE_PID=$!; PIDS+=("$FAKE_PID")
GITHUB_WEBHOOK_SECRET=$SECRET PORT=$FLOOR_PORT $SERVER_ON "$BIN/examples/floor" >"$OUT/floor.log" 2>&1 &
FLOOR_PID=$!; PIDS+=("$FLOOR_PID")
serve() { # port queue-capacity log
  GITHUB_APP_ID=4242 \
  GITHUB_PRIVATE_KEY_PATH=tests/fixtures/test-app-key.pem \
  GITHUB_WEBHOOK_SECRET=$SECRET \
  GITHUB_API_URL=http://127.0.0.1:$FAKE_PORT \
  DATABASE_URL=${DATABASE_URL:-sqlite://$OUT/store-$1.db} \
  PORT=$1 QUEUE_CAPACITY=$2 RUST_LOG=$APP_LOG SHUTDOWN_GRACE=2s \
    $SERVER_ON "$BIN/hotfix-guard" serve >"$OUT/$3.log" 2>&1 &
}
serve "$APP_PORT" 10000 hotfix-guard
APP_PID=$!; PIDS+=("$APP_PID")
serve "$APP2_PORT" "$SMALL_QUEUE" hotfix-guard-small-queue
APP2_PID=$!; PIDS+=("$APP2_PID")
wait_http "$FAKE_PORT" fake_github /_stats
wait_http "$FLOOR_PORT" floor
wait_http "$APP_PORT" hotfix-guard
wait_http "$APP2_PORT" hotfix-guard-small-queue

# --- measurement helpers ------------------------------------------------------
SIGNATURE=$(GITHUB_WEBHOOK_SECRET=$SECRET $CLIENT_ON "$BIN/examples/burst" sign "$PAYLOAD")
BYTES=$(wc -c <"$PAYLOAD")
CLK_TCK=$(getconf CLK_TCK)
hwm_mb() { awk '/^VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
rss_mb() { awk '/^VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<<"$2"; }
evaluations() {
  curl -s "http://127.0.0.1:$APP_PORT/metrics" |
    awk '/^hotfix_guard_evaluations_total\{/ {n += $2} END {print n + 0}'
}
github_calls() { curl -s "http://127.0.0.1:$FAKE_PORT/_stats" | sed -n 's/.*"total_calls":\([0-9]*\).*/\1/p'; }

# One signed delivery by hand: both servers must accept it before we time them.
check_accepts() { # port name
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$1/webhook" \
    -H 'Content-Type: application/json' -H 'X-GitHub-Event: pull_request' \
    -H "X-GitHub-Delivery: $(printf 'c0-%x-%x' "$RANDOM" "$$")" -H "X-Hub-Signature-256: $SIGNATURE" \
    --data-binary "@$PAYLOAD")
  [ "$code" = 202 ] || { say "$2 answered $code to a signed delivery, not 202"; exit 1; }
}

run_wrk() { # port duration run-id
  BODY_FILE=$PAYLOAD SIGNATURE=$SIGNATURE RUN_ID=$3 \
    $CLIENT_ON wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2" --timeout 5s -s scripts/webhook.lua \
    "http://127.0.0.1:$1" | tee -a "$OUT/wrk.log" | grep '^RESULT'
}

declare -A R
measure() { # name port pid
  check_accepts "$2" "$1"
  say "load: $1 — warm-up $WARMUP, then $DURATION at $CONNECTIONS connections…"
  run_wrk "$2" "$WARMUP" "warm-$1-$$" >/dev/null
  local ev0 calls0 cpu0 line cpu1
  ev0=$(evaluations); calls0=$(github_calls); cpu0=$(cpu_ticks "$3")
  line=$(run_wrk "$2" "$DURATION" "run-$1-$$")
  cpu1=$(cpu_ticks "$3")
  local seconds rps
  seconds=$(field seconds "$line"); rps=$(field rps "$line")
  R[$1.rps]=$rps
  R[$1.p50]=$(field p50_ms "$line")
  R[$1.p99]=$(field p99_ms "$line")
  R[$1.max]=$(field max_ms "$line")
  R[$1.non2xx]=$(( $(field non2xx "$line") + $(field socket_errors "$line") + $(field timeouts "$line") ))
  R[$1.cpu]=$(awk -v t=$((cpu1 - cpu0)) -v hz="$CLK_TCK" -v s="$seconds" 'BEGIN {printf "%.2f", t / hz / s}')
  R[$1.per_cpu_s]=$(awk -v r="$rps" -v c="${R[$1.cpu]}" 'BEGIN {printf "%.0f", (c > 0 ? r / c : 0)}')
  if [ "$1" = hotfix-guard ]; then
    sleep 1 # let the last evaluation end
    R[ev]=$(($(evaluations) - ev0)); R[calls]=$(($(github_calls) - calls0))
  fi
  say "load: $1 — $RATE deliveries/s offered for $RATE_SECONDS s (open loop)…"
  line=$(GITHUB_WEBHOOK_SECRET=$SECRET $CLIENT_ON "$BIN/examples/burst" rate --url "http://127.0.0.1:$2" \
    --payload "$PAYLOAD" --rps "$RATE" --seconds "$RATE_SECONDS" --concurrency "$CONNECTIONS")
  R[$1.rate_p50]=$(field p50_ms "$line")
  R[$1.rate_p99]=$(field p99_ms "$line")
  R[$1.rate_non2xx]=$(field non2xx "$line")
  R[$1.hwm]=$(hwm_mb "$3")
}

# --- 1. load ------------------------------------------------------------------
measure floor "$FLOOR_PORT" "$FLOOR_PID"
measure hotfix-guard "$APP_PORT" "$APP_PID"

ratio=$(awk -v a="${R[hotfix-guard.rps]}" -v b="${R[floor.rps]}" 'BEGIN {printf "%.2f", a / b}')
cpu_ratio=$(awk -v a="${R[hotfix-guard.per_cpu_s]}" -v b="${R[floor.per_cpu_s]}" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}')

# --- 2. burst and 3. one pull request -----------------------------------------
say "burst: $BURST_COUNT deliveries for $BURST_PRS pull requests…"
burst_out=$(GITHUB_WEBHOOK_SECRET=$SECRET $CLIENT_ON "$BIN/examples/burst" many \
  --app "http://127.0.0.1:$APP_PORT" --fake "http://127.0.0.1:$FAKE_PORT" \
  --payload "$PAYLOAD" --count "$BURST_COUNT" --prs "$BURST_PRS" --concurrency "$CONNECTIONS")
burst_hwm=$(hwm_mb "$APP_PID"); burst_rss=$(rss_mb "$APP_PID")
say "burst into a queue of $SMALL_QUEUE with GitHub answering in $GITHUB_LATENCY_MS ms…"
small_out=$(GITHUB_WEBHOOK_SECRET=$SECRET $CLIENT_ON "$BIN/examples/burst" many \
  --app "http://127.0.0.1:$APP2_PORT" --fake "http://127.0.0.1:$FAKE_PORT" \
  --payload "$PAYLOAD" --count "$BURST_COUNT" --prs "$BURST_PRS" --concurrency "$CONNECTIONS" \
  --first-pr 200000 --github-latency-ms "$GITHUB_LATENCY_MS")
small_hwm=$(hwm_mb "$APP2_PID")
one_out=""
pr=900000
for latency in 0 "$GITHUB_LATENCY_MS"; do
  say "one pull request: 100 deliveries within 100 ms, GitHub answering in $latency ms…"
  pr=$((pr + 1))
  one_out+=$(GITHUB_WEBHOOK_SECRET=$SECRET $CLIENT_ON "$BIN/examples/burst" one-pr \
    --app "http://127.0.0.1:$APP_PORT" --fake "http://127.0.0.1:$FAKE_PORT" --payload "$PAYLOAD" \
    --pr "$pr" --github-latency-ms "$latency")$'\n'
done
final_hwm=$(hwm_mb "$APP_PID")

# --- report -------------------------------------------------------------------
model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
{
  echo "## Load benchmark — $(date -u +%Y-%m-%dT%H:%MZ)"
  echo
  echo "Machine: $(nproc) cores, ${model:-unknown CPU}, $(uname -sr). wrk $THREADS threads," \
    "$CONNECTIONS connections, $DURATION per server (after $WARMUP warm-up), loopback." \
    "Payload: $PAYLOAD ($BYTES bytes), signed, a fresh X-GitHub-Delivery per request." \
    "Placement: $PLACEMENT." \
    "hotfix-guard RUST_LOG=$APP_LOG."
  echo
  echo "| server | deliveries/s (wrk, $CONNECTIONS conns) | p50 | p99 | max | non-2xx | server CPU (cores) | deliveries per CPU-second | p50 at $RATE/s | p99 at $RATE/s | non-2xx at $RATE/s | peak RSS |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for s in floor hotfix-guard; do
    echo "| $s | ${R[$s.rps]} | ${R[$s.p50]} ms | ${R[$s.p99]} ms | ${R[$s.max]} ms | ${R[$s.non2xx]} | ${R[$s.cpu]} | ${R[$s.per_cpu_s]} | ${R[$s.rate_p50]} ms | ${R[$s.rate_p99]} ms | ${R[$s.rate_non2xx]} | ${R[$s.hwm]} MB |"
  done
  echo
  echo "Ratio hotfix-guard / floor: **$ratio** in deliveries/s (goal ≥ 0.8), $cpu_ratio in deliveries per CPU-second."
  echo "During the hotfix-guard run: ${R[ev]} evaluations, ${R[calls]} fake-GitHub calls" \
    "(one pull request, so the deliveries coalesce)."
  echo
  echo '```'
  echo "$burst_out"
  echo "burst: hotfix-guard peak RSS so far ${burst_hwm} MB, RSS after the burst ${burst_rss} MB"
  echo "$small_out" | sed 's/^burst:/small-queue burst:/'
  echo "small-queue burst: that hotfix-guard's peak RSS ${small_hwm} MB (queue capacity $SMALL_QUEUE)"
  printf '%s' "$one_out"
  echo "hotfix-guard peak RSS over the whole run: ${final_hwm} MB"
  echo '```'
} | tee "$OUT/results.md"
