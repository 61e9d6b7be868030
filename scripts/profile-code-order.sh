#!/usr/bin/env bash
# Regenerates deploy/ballotd.order: the functions a starting and idling node runs, in the order
# scripts/build-release.sh asks the linker to lay them out (lld --symbol-ordering-file).
#
# Why: an idle node touches about 1 MiB of code in steady state and a few MiB at start-up, spread
# over the whole 40 MB text segment; the kernel maps 64 KiB around every code page fault
# (fault-around), so scattered functions made 12-13 MiB of code resident. Laid out next to each
# other they fault in as a few dense MiB (docs/performance.md, "Where the resident set goes").
#
# How: three nodes of the deployable build run under valgrind's callgrind (debug info stripped from a
# copy: valgrind cannot read the Swift toolchain's DWARF), first with plaintext peers and HTTP, then
# with mutual TLS between peers, a cluster secret and HTTPS; they elect, answer the routes an
# operator and Prometheus use, hand leadership over once and shut down cleanly. Every function any of
# them ran goes into the list, the ones still running after start-up (the second callgrind dump)
# first. A stale list is harmless: the linker ignores names it does not find and places new
# functions after the listed ones, so the file only needs regenerating when the idle path changes a
# lot. Takes about 5 minutes; needs valgrind (apt-get install valgrind).
#
#   scripts/profile-code-order.sh            # builds with scripts/build-release.sh first
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind > /dev/null || { echo "profile-code-order: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
scripts/build-release.sh > /dev/null
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2> /dev/null || true; rm -rf "$work"' EXIT
cp .build/deploy/release/ballotd "$work/ballotd"
strip --strip-debug "$work/ballotd"
.build/deploy/release/ballot certs --dir "$work/certs" --cluster profile --nodes 3 --secret > /dev/null

base=46100
# run_cluster NAME CURL-SCHEME [node flags…]: three nodes under callgrind for about a minute.
run_cluster() {
  local name=$1 scheme=$2; shift 2
  local pids=() i j
  for i in 1 2 3; do
    local peers=()
    for j in 1 2 3; do [ "$j" = "$i" ] || peers+=(--peer "$j=127.0.0.1:$((base + j))"); done
    local extra=("$@")
    extra=("${extra[@]//@ID@/$i}")
    (cd "$work" && exec valgrind --tool=callgrind --demangle=no --dump-instr=no \
      --callgrind-out-file="$work/$name.$i.cg" ./ballotd --cluster profile --id "$i" \
      --listen "127.0.0.1:$((base + i))" "${peers[@]}" --http "127.0.0.1:$((base + 10 + i))" \
      --data-dir "$work/data-$name-$i" --heartbeat-interval 100ms --election-timeout 1s \
      "${extra[@]}") > "$work/$name.$i.log" 2>&1 &
    pids+=($!)
  done
  # Start-up (valgrind runs the nodes some 50 times slower), then the first dump: start-up code.
  sleep 25
  for i in 0 1 2; do callgrind_control -d "${pids[$i]}" > /dev/null 2>&1 || true; done
  # Steady state: what Prometheus, a load balancer and an operator ask, and one transfer.
  local round
  for round in 1 2 3 4 5; do
    for i in 1 2 3; do
      for route in metrics leader healthz readyz primary status; do
        curl -sk -m 5 -o /dev/null "$scheme://127.0.0.1:$((base + 10 + i))/$route" || true
      done
    done
    [ "$round" = 3 ] && for i in 1 2 3; do
      curl -sk -m 10 -o /dev/null -X POST "$scheme://127.0.0.1:$((base + 10 + i))/transfer" || true
    done
    sleep 4
  done
  for i in 0 1 2; do kill -TERM "${pids[$i]}" 2> /dev/null || true; done
  for i in 0 1 2; do wait "${pids[$i]}" 2> /dev/null || true; done
}

run_cluster plain http
run_cluster tls https --peer-tls-cert "$work/certs/node-@ID@.pem" --peer-tls-key "$work/certs/node-@ID@-key.pem" \
  --peer-tls-ca "$work/certs/ca.pem" --cluster-secret-file "$work/certs/cluster.secret" \
  --http-tls-cert "$work/certs/node-@ID@.pem" --http-tls-key "$work/certs/node-@ID@-key.pem"

# callgrind names a function once per file, as "fn=(id) name" (or cfn= for a callee), with 'N
# appended to a recursive call's name; later mentions use the id alone. A dump file ending in .1 is
# the start-up dump, the final file the rest. Names of other objects (libc) are ignored by the linker.
names() { sed -nE "s/^c?fn=\([0-9]+\) (.+)$/\1/p" "$@" | sed -E "s/'[0-9]+$//" | grep -v '^0x' | awk '!seen[$0]++'; }
steady=("$work"/*.cg)
startup=("$work"/*.cg.*)
[ -e "${steady[0]}" ] && [ -e "${startup[0]}" ] || { echo "profile-code-order: callgrind wrote no profiles (see $work/*.log)" >&2; exit 1; }
# Only the binary's own functions: libc's are in a shared library the linker does not lay out.
nm --defined-only "$work/ballotd" | awk '{print $3}' | sort -u > "$work/defined"
{ names "${steady[@]}"; names "${startup[@]}"; } | awk 'NR == FNR { defined[$0] = 1; next } defined[$0] && !seen[$0]++' "$work/defined" - > deploy/ballotd.order
echo "deploy/ballotd.order: $(wc -l < deploy/ballotd.order) functions ($(names "${steady[@]}" | wc -l) still run after start-up)"
