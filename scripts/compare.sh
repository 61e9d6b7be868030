#!/usr/bin/env bash
# Measures the Raft/Bully/Ring comparison matrix (docs/comparison.md) with a release build and
# writes it to docs/comparison/: matrix.md (the tables), matrix.csv, matrix.json and chart.svg.
# Extra arguments go to `ballot simulate --compare`, e.g. --seeds-per-cell 20 for a quicker run.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product ballot 2>&1 | { grep -vE '^\[[0-9]+/[0-9]+\] ' || true; }
out=docs/comparison
mkdir -p "$out"
.build/release/ballot simulate --compare \
  --csv "$out/matrix.csv" --json "$out/matrix.json" --svg "$out/chart.svg" "$@" > "$out/matrix.md"
tail -n 3 "$out/matrix.md"
