#!/usr/bin/env bash
# The big simulator run: many random fault schedules per cluster size, release build.
# Usage: scripts/simulate-long.sh [schedules-per-size]   (default 20000)
#
# Exits non-zero on any violation and on any run that proves nothing: `ballot simulate` itself fails
# a sweep with fewer schedules than asked, no election or no fault injected, and this script checks
# each sweep's summary again (schedules run, elections, faults, violations) before going on.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-20000}"
[[ "$count" =~ ^[1-9][0-9]*$ ]] || { echo "error: schedules-per-size must be a positive integer, got '$count'" >&2; exit 2; }
swift build -c release --product ballot
sweeps=0
for nodes in random 3 5; do
  echo "==> $count schedules, nodes=$nodes"
  log="$(mktemp)"
  trap 'rm -f "$log"' EXIT
  if [ "$nodes" = random ]; then
    .build/release/ballot simulate --seeds "$count" --first-seed 1000000 | tee "$log"
  else
    .build/release/ballot simulate --seeds "$count" --first-seed 2000000 --nodes "$nodes" | tee "$log"
  fi
  # The summary's own figures: this many schedules, some elections and faults, no violation.
  schedules="$(awk '/^schedules:/ {print $2}' "$log")"
  elections="$(awk '/^elections:/ {print $2}' "$log")"
  faults="$(awk '/^faults:/ {print $2}' "$log")"
  violations="$(awk '/^violations:/ {print $2}' "$log")"
  rm -f "$log"
  if [[ "$schedules" != "$count" || ! "$elections" =~ ^[1-9][0-9]*$ || ! "$faults" =~ ^[1-9][0-9]*$ || "$violations" != 0 ]]; then
    echo "error: nodes=$nodes: schedules '$schedules' (asked $count), elections '$elections', faults '$faults', violations '$violations'" >&2
    exit 1
  fi
  sweeps=$((sweeps + 1))
done
echo "==> $sweeps sweeps of $count schedules: no violation, none vacuous"
