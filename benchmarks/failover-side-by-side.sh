#!/usr/bin/env bash
# One command, both tables: Ballot and etcd failover on this machine, same settings, same faults,
# same observation method (each node's own event/log line stamps when it leads or learns the leader).
# Usage: benchmarks/failover-side-by-side.sh [trials] [heartbeat-ms] [election-ms]
set -euo pipefail
cd "$(dirname "$0")/.."
trials="${1:-20}"
heartbeat="${2:-100}"
election="${3:-1000}"
if ! command -v etcd >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >/dev/null
fi
scripts/build-release.sh | tail -1   # the deployable build (static, see the script)
for fault in kill pause; do
  echo "=================== Ballot, fault=$fault ==================="
  .build/deploy/release/ballot bench failover --node-binary .build/deploy/release/ballotd \
    --fault "$fault" --trials "$trials" \
    --heartbeat-interval "${heartbeat}ms" --election-timeout "${election}ms" --extras "$([ "$fault" = kill ] && echo 10 || echo 0)"
  echo "=================== etcd, fault=$fault ==================="
  python3 benchmarks/etcd_failover.py --fault "$fault" --trials "$trials" --heartbeat-ms "$heartbeat" --election-ms "$election"
done
