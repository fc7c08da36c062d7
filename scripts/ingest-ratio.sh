#!/usr/bin/env bash
# The ingest bench's cases, interleaved, several rounds: on a shared or busy
# machine other processes only ever add time, so the fastest round of each
# case is the best estimate of its own cost. Prints µs per delivery and
# deliveries per second on one core for each case, and the ratios.
#
#   scripts/ingest-ratio.sh            # 7 rounds of 30,000 deliveries per case
#   ROUNDS=3 N=10000 scripts/ingest-ratio.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-7}
N=${N:-30000}
CASES=(floor floor_checking_json hotfix_guard hotfix_guard_info_logs)

bin=$(cargo bench --locked --bench ingest --no-run --message-format=json 2>/dev/null |
  sed -n 's/.*"executable":"\([^"]*\/ingest-[^"]*\)".*/\1/p' | tail -1)
[ -x "$bin" ] || { echo "could not build the ingest bench" >&2; exit 1; }

declare -A runs
for round in $(seq 1 "$ROUNDS"); do
  for c in "${CASES[@]}"; do
    us=$(INGEST_PROFILE="$c:$N" "$bin" 2>&1 | sed -n 's/.*, \([0-9.]*\) us each/\1/p')
    runs[$c]+="$us "
  done
  printf 'round %d/%d done\n' "$round" "$ROUNDS" >&2
done

stat() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g | awk '{a[NR]=$1} END {printf "%s %s", a[1], a[int((NR+1)/2)]}'; }
printf '| case | µs per delivery (fastest of %d) | median | deliveries/s on one core |\n| --- | ---: | ---: | ---: |\n' "$ROUNDS"
declare -A best
for c in "${CASES[@]}"; do
  read -r fastest median <<<"$(stat "${runs[$c]}")"
  best[$c]=$fastest
  printf '| %s | %.2f | %.2f | %.0f |\n' "$c" "$fastest" "$median" "$(awk -v u="$fastest" 'BEGIN {print 1e6 / u}')"
done
awk -v f="${best[floor]}" -v j="${best[floor_checking_json]}" -v h="${best[hotfix_guard]}" -v l="${best[hotfix_guard_info_logs]}" 'BEGIN {
  printf "\nhotfix_guard / floor (deliveries per second per core): %.2f (goal: within 25%%, i.e. >= 0.80)\n", f / h
  printf "hotfix_guard / floor_checking_json: %.2f\n", j / h
  printf "hotfix_guard_info_logs / floor: %.2f\n", f / l
}'
