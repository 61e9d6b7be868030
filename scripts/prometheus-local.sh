#!/usr/bin/env bash
# Starts Debian's Prometheus against a running `ballot local` cluster, with Ballot's alert rules.
#
#   swift run ballot local          # terminal 1: three nodes, HTTP on 127.0.0.1:9101–9103
#   scripts/prometheus-local.sh     # terminal 2: Prometheus on http://127.0.0.1:9090
#
# Then open http://127.0.0.1:9090/targets and /alerts, or query the API, e.g.
#   curl -s 'http://127.0.0.1:9090/api/v1/query?query=ballot_term'
#   scripts/dashboard-queries.py    # every dashboard query, ready for the API
#
# - Configuration: dashboards/prometheus.yml (scrapes every 2s, label cluster="local") and
#   dashboards/rules.yml and alerts.yml, all checked with promtool before starting.
# - Listens on 127.0.0.1 only. Port: $BALLOT_PROMETHEUS_PORT (default 9090).
# - Stores its data in a new temporary directory, removed when Prometheus stops.
# - Runs in the foreground; Ctrl-C or SIGTERM stops Prometheus and cleans up.
# - Extra arguments go to Prometheus (e.g. --log.level=debug), except another listen address.
# Needs the Debian package `prometheus` (`apt-get install prometheus`; scripts/test.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."

port="${BALLOT_PROMETHEUS_PORT:-9090}"
config="dashboards/prometheus.yml"

for arg in "$@"; do
  case "$arg" in
    --web.listen-address*)
      echo "prometheus-local: Prometheus listens on 127.0.0.1 only; set BALLOT_PROMETHEUS_PORT to change the port" >&2
      exit 2 ;;
  esac
done

if ! command -v prometheus >/dev/null 2>&1; then
  echo "prometheus-local: 'prometheus' not found; install Debian's package: sudo apt-get install prometheus" >&2
  exit 1
fi
if command -v promtool >/dev/null 2>&1; then
  promtool check config "$config" >/dev/null
fi

if command -v curl >/dev/null 2>&1; then
  reachable=0
  for node_port in 9101 9102 9103; do
    if curl -fsS -m 1 -o /dev/null "http://127.0.0.1:${node_port}/metrics" 2>/dev/null; then
      reachable=$((reachable + 1))
    fi
  done
  if [ "$reachable" -eq 0 ]; then
    echo "prometheus-local: no Ballot node answers on 127.0.0.1:9101–9103 yet; start one with 'swift run ballot local'." >&2
    echo "prometheus-local: starting anyway; Prometheus picks the nodes up as soon as they are there." >&2
  fi
fi

storage="$(mktemp -d "${TMPDIR:-/tmp}/ballot-prometheus.XXXXXX")"
prometheus_pid=""
cleanup() {
  if [ -n "$prometheus_pid" ] && kill -0 "$prometheus_pid" 2>/dev/null; then
    kill -TERM "$prometheus_pid" 2>/dev/null || true
    wait "$prometheus_pid" 2>/dev/null || true
  fi
  rm -rf "$storage"
}
trap cleanup EXIT
# A script's background jobs ignore SIGINT, so pass Ctrl-C and SIGTERM on to Prometheus.
trap 'if [ -n "$prometheus_pid" ]; then kill -TERM "$prometheus_pid" 2>/dev/null || true; fi' INT TERM

echo "prometheus-local: Prometheus on http://127.0.0.1:${port} (data in ${storage}); Ctrl-C stops it."
prometheus \
  --config.file="$config" \
  --storage.tsdb.path="$storage" \
  --storage.tsdb.retention.time=1d \
  --web.listen-address="127.0.0.1:${port}" \
  "$@" &
prometheus_pid=$!

status=0
wait "$prometheus_pid" || status=$?
# A trapped signal interrupts `wait`; wait once more for Prometheus to finish shutting down.
if kill -0 "$prometheus_pid" 2>/dev/null; then
  wait "$prometheus_pid" || status=$?
fi
exit "$status"
