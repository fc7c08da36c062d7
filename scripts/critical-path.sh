#!/usr/bin/env bash
# The critical path of an evaluation (tests/critical_path.rs): the real app
# against the fake GitHub answering every request after a fixed delay (100 ms
# by default), for a first P0 evaluation, a re-evaluation after a review and
# a first non-hotfix evaluation. Prints, per case, the time from the signed
# delivery to the check run's write, that time in round trips (time / delay)
# and the API calls (304 answers apart: GitHub does not charge them).
#
# Runs twice: with one request in flight per installation (every call waits
# for the one before: the critical path is the sum of the calls, as before
# the concurrent gather) and with the app's own limit (the critical path is
# the longest chain of calls that depend on each other).
#
#   scripts/critical-path.sh
#   DELAY_MS=50 CALLS=1 scripts/critical-path.sh    # list each case's calls
set -euo pipefail
cd "$(dirname "$0")/.."
export CRITICAL_PATH_DELAY_MS=${DELAY_MS:-100}
export CRITICAL_PATH_CALLS=${CALLS:-0}
cargo test --locked --test suite --no-run >/dev/null 2>&1 ||
  { echo "could not build tests/critical_path.rs" >&2; exit 1; }
for in_flight in ${IN_FLIGHT:-1 default}; do
  if [ "$in_flight" = default ]; then unset CRITICAL_PATH_IN_FLIGHT; else export CRITICAL_PATH_IN_FLIGHT=$in_flight; fi
  cargo test --locked --test suite critical_path:: -- --ignored --nocapture --test-threads 1 2>/dev/null |
    sed -n '/^delay /,/^ok$/p' | grep -v '^ok$'
done
