#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ (address sanitizer on) and runs each one in turn for
# SECONDS (default 60), starting from the seed corpus in Fuzz/Corpus/<target>/. Prints the
# executions, executions per second, corpus size and crashes of each target; exits non-zero if any
# target crashed, hung or leaked, printing the reproducer's path (run the target on that file to
# replay it: .build/fuzz/bin/<target> <file>).
#
#   scripts/fuzz.sh [SECONDS]
#   FUZZ_RUNS=10000000 scripts/fuzz.sh        # a number of executions per target instead of a time
#   FUZZ_TARGETS="fuzz-peer-session" scripts/fuzz.sh 30
#   FUZZ_CONFIGURATION=debug scripts/fuzz.sh 10   # the test suite's short run: builds in ~3 min, not ~5
#
# Work files go to .build/fuzz/<target>/: the corpus (grown by every run, and where the next run
# starts), and runs/<time>/ with each run's log and crash files. The committed seeds are only read.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
read -r -a targets <<< "${FUZZ_TARGETS:-fuzz-frame-decoder fuzz-peer-session fuzz-cluster-secret fuzz-configuration}"
flags=(-c "${FUZZ_CONFIGURATION:-release}" -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xcc -fsanitize=fuzzer-no-link,address)
work="$PWD/.build/fuzz"

echo "==> building the fuzz targets (swift build --package-path Fuzz ${flags[*]})"
swift build --package-path Fuzz "${flags[@]}" 2>&1 | { grep -vE '^\[[0-9]+/[0-9]+\] |ld.gold: warning' || true; }
bin="$(swift build --package-path Fuzz "${flags[@]}" --show-bin-path)"
mkdir -p "$work/bin"

if [ -n "${FUZZ_RUNS:-}" ]; then limit=(-runs="$FUZZ_RUNS"); what="$FUZZ_RUNS executions"; else
  limit=(-max_total_time="$seconds"); what="$seconds s"; fi

failed=0
crashed=0
printf '%-22s %14s %10s %8s %8s  %s\n' target executions exec/s corpus crashes reproducer
for target in "${targets[@]}"; do
  cp "$bin/$target" "$work/bin/$target"
  dir="$work/$target"
  # Each run keeps its log and crash files in a directory of its own; the corpus carries over.
  artifacts="$dir/runs/$(date +%Y%m%dT%H%M%S)"
  mkdir -p "$dir/corpus" "$artifacts"
  seeds="Fuzz/Corpus/$target"
  log="$artifacts/fuzz.log"
  status=0
  # -timeout: an input that takes 10 s is a hang; -rss_limit_mb: one that needs 2 GiB a leak.
  "$work/bin/$target" "${limit[@]}" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts/" "$dir/corpus" "$seeds" > "$log" 2>&1 || status=$?
  stat() { grep -m1 "^stat::$1:" "$log" | awk '{print $2}' || true; }
  executions="$(stat number_of_executed_units)"
  rate="$(stat average_exec_per_sec)"
  # The corpus libFuzzer ended with: seeds plus the inputs it kept for new coverage.
  corpus="$(grep -E '^#[0-9]+[[:space:]].* corp: [0-9]+/' "$log" | tail -1 | sed -E 's/.* corp: ([0-9]+)\/.*/\1/' || true)"
  reproducer="$(find "$artifacts" -type f ! -name fuzz.log | head -1)"
  crashes=0
  if grep -q "libFuzzer: run interrupted" "$log"; then
    echo "$target: interrupted after ${executions:-?} executions"
    exit 130
  elif [ "$status" -ne 0 ] || [ -n "$reproducer" ]; then
    crashes=1
    failed=1
    crashed=$((crashed + 1))
  fi
  printf '%-22s %14s %10s %8s %8s  %s\n' "$target" "${executions:-?}" "${rate:-?}" "${corpus:-?}" "$crashes" \
    "$([ "$crashes" -ne 0 ] && echo "${reproducer:-none written, see $log}")"
  if [ "$crashes" -ne 0 ]; then
    echo "---- $target exited with status $status ($what); last lines of $log:"
    grep -E "ERROR|SUMMARY|Fatal error|Precondition failed|Test unit written|==[0-9]+==" "$log" | tail -8 || tail -20 "$log"
  fi
done
echo "fuzz: $(( ${#targets[@]} - crashed )) passed, $crashed failed"
[ "$failed" -eq 0 ] || { echo "fuzzing found a crash; replay with: .build/fuzz/bin/<target> <reproducer>"; exit 1; }
