#!/usr/bin/env bash
# The big simulator run: many random fault schedules per cluster size, release build.
# Usage: scripts/simulate-long.sh [schedules-per-size]   (default 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-20000}"
swift build -c release --product ballot
for nodes in random 3 5; do
  echo "==> $count schedules, nodes=$nodes"
  if [ "$nodes" = random ]; then
    .build/release/ballot simulate --seeds "$count" --first-seed 1000000
  else
    .build/release/ballot simulate --seeds "$count" --first-seed 2000000 --nodes "$nodes"
  fi
done
