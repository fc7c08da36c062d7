#!/usr/bin/env bash
# Replays issue 11's attacks against the release binary, on loopback only,
# with the default limits, and prints one table row per attack (answers,
# peak RSS, RSS after, log bytes per request). Bounded: each attack sends a
# fixed number of requests and the run stops by itself (10 minutes at most;
# about two minutes in practice, most of it waiting for timeouts).
#
#   scripts/attack.sh            # builds `--release` first
#   SKIP_BUILD=1 scripts/attack.sh
#
# Settings (environment): ATTACK_PORT (19995), ATTACK_LOG
# (/tmp/hotfix-guard-attack.log). Linux only (/proc). The figures in
# docs/limits.md come from this script.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${SKIP_BUILD:-}" ]; then
  cargo build --release --locked --bin hotfix-guard >&2
fi
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/hotfix-guard}
[ -x "$BIN" ] || { echo "no release binary at $BIN" >&2; exit 1; }
# 1,200 connections at once need more descriptors than the usual 1,024
# (client and server share this limit here).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
BIN=$BIN exec timeout 600 python3 scripts/attack.py
