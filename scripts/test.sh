#!/usr/bin/env bash
# Sets up everything the test suite needs on a fresh Debian machine, builds, and runs every test.
# This is the README's test command and what CI runs (.ci/run calls it).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v curl >/dev/null 2>&1 || missing+=(curl)
# The HTTP surface's tests use real clients: nghttp (libnghttp2) and openssl for throwaway certificates.
command -v nghttp >/dev/null 2>&1 || missing+=(nghttp2-client)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# The fault suite (BallotFaultTests, `ballot faults`) needs nftables and tc for network faults.
command -v nft >/dev/null 2>&1 || missing+=(nftables)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "==> building (debug, with tests)"
# Progress lines are filtered out; pipefail keeps the compiler's exit status.
swift build --build-tests 2>&1 | { grep -vE '^\[[0-9]+/[0-9]+\] ' || true; }

echo "==> running the test suite"
export BALLOT_BINARY="$PWD/.build/debug/ballot"
if [ $# -gt 0 ]; then
  swift test --skip-build "$@"
  exit
fi
# Three phases, so that timing-sensitive clusters never share the two cores with the CPU-heavy
# simulator sweeps: pure layers (parallel), then the server and end-to-end clusters (one test at a
# time), then the fault-injection suite with its 3- and 5-node clusters and network namespaces.
echo "==> core, wire and simulator tests"
swift test --skip-build --filter 'BallotCoreTests|BallotWireTests|BallotSimulationTests'
echo "==> server and end-to-end tests (serial: real clusters with short timeouts)"
swift test --skip-build --no-parallel --filter 'BallotServerTests|BallotEndToEndTests'
echo "==> fault-injection suite (BallotFaultTests)"
swift test --skip-build --no-parallel --filter BallotFaultTests
