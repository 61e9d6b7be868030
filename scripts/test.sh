#!/usr/bin/env bash
# Sets up everything the test suite needs on a fresh Debian machine, builds, and runs every test.
# This is the README's test command and what CI runs (.ci/run calls it).
#
# The fault suite's network faults need Linux network namespaces (root, iproute2, nftables). Without
# them the full run FAILS before building; BALLOT_ALLOW_NO_NAMESPACES=1 is the only way to skip those
# cases instead, and the skip is then listed in the summary printed at the end (README, docs/reliability.md).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
# The monitoring mixin (dashboards/mixin) is generated with Debian's jsonnet.
command -v jsonnet >/dev/null 2>&1 || missing+=(jsonnet)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v curl >/dev/null 2>&1 || missing+=(curl)
# The HTTP surface's tests use real clients: nghttp (libnghttp2) and openssl for throwaway certificates.
command -v nghttp >/dev/null 2>&1 || missing+=(nghttp2-client)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# The status page's tests (StatusPageTests) load GET / in headless Chromium over the DevTools protocol.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# The fault suite (BallotFaultTests, `ballot faults`) needs nftables and tc for network faults.
command -v nft >/dev/null 2>&1 || missing+=(nftables)
# BallotZooKeeperTests and BallotBackendsTests start real ZooKeeper servers (the package pulls in a
# Java runtime); BallotBackendsTests start real etcd members too (etcd-server, and etcdctl from
# etcd-client) and make TLS certificates with openssl.
[ -f /usr/share/java/zookeeper.jar ] && command -v java >/dev/null 2>&1 || missing+=(zookeeper)
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || missing+=(etcd-client)
# The packaging phase (BallotPackagingTests): the Debian package, its unit and lintian; the
# container image and a cluster of containers; man pages; the OS tools the tests use.
command -v dpkg-shlibdeps >/dev/null 2>&1 || missing+=(dpkg-dev)
command -v lintian >/dev/null 2>&1 || missing+=(lintian)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
command -v man >/dev/null 2>&1 || missing+=(man-db)
command -v file >/dev/null 2>&1 || missing+=(file)
command -v unshare >/dev/null 2>&1 || missing+=(util-linux)
command -v podman >/dev/null 2>&1 || missing+=(podman)
command -v buildah >/dev/null 2>&1 || missing+=(buildah)
command -v runc >/dev/null 2>&1 || missing+=(runc)
[ -x /usr/lib/podman/netavark ] || command -v netavark >/dev/null 2>&1 || missing+=(netavark)
[ -x /usr/lib/podman/aardvark-dns ] || command -v aardvark-dns >/dev/null 2>&1 || missing+=(aardvark-dns)
command -v iptables >/dev/null 2>&1 || missing+=(iptables)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# kubernetes-validate (PyPI) validates the Kubernetes manifests against bundled schemas, offline.
if ! command -v kubernetes-validate >/dev/null 2>&1; then
  echo "==> installing kubernetes-validate (pip)"
  python3 -m pip install --quiet kubernetes-validate
fi

# Why network namespaces cannot be used here, or nothing if they can (the same probe as the tests').
namespaces_unavailable() {
  local tool
  for tool in ip nft tc; do
    command -v "$tool" >/dev/null 2>&1 || { echo "\`$tool\` is not installed"; return; }
  done
  [ "$(id -u)" -eq 0 ] || { echo "network namespaces need root"; return; }
  local probe="ballotf-$$-ciprobe"
  ip netns add "$probe" >/dev/null 2>&1 || { echo "the kernel refused \`ip netns add\`"; return; }
  if ! ip netns exec "$probe" nft add table inet probe >/dev/null 2>&1; then
    ip netns del "$probe" >/dev/null 2>&1 || true
    echo "nftables does not work inside a namespace"
    return
  fi
  ip netns del "$probe" >/dev/null 2>&1 || true
}

# The full run refuses to start without namespaces unless the skip is allowed (a filtered run, with
# arguments, leaves that to the tests it selects, which fail the same way).
skipped=()
reason=""
if [ $# -eq 0 ]; then
  reason="$(namespaces_unavailable)"
  if [ -n "$reason" ]; then
    if [ "${BALLOT_ALLOW_NO_NAMESPACES:-}" != 1 ]; then
      echo "error: network namespaces are unavailable ($reason), so the fault suite's network faults cannot run." >&2
      echo "       Run as root with iproute2 and nftables, or set BALLOT_ALLOW_NO_NAMESPACES=1 to skip them on purpose." >&2
      exit 1
    fi
    skipped+=("network faults (QuickFaultRunTests.everyFaultKindInNetworkNamespaces): $reason; allowed by BALLOT_ALLOW_NO_NAMESPACES=1")
  fi
fi

echo "==> checking that the generated monitoring files match dashboards/mixin"
# Generates into a temporary directory and compares; fails with the diff and what to do.
scripts/generate-monitoring.sh --check

echo "==> building (debug, with tests)"
# Progress lines are filtered out; pipefail keeps the compiler's exit status.
swift build --build-tests 2>&1 | { grep -vE '^\[[0-9]+/[0-9]+\] ' || true; }

echo "==> running the test suite"
export BALLOT_BINARY="$PWD/.build/debug/ballot"
if [ $# -gt 0 ]; then
  swift test --skip-build "$@"
  exit
fi

phases=()
failures=()
# Runs one phase and records its outcome and duration for the summary; the fault phase's output is
# kept so that a skip banner printed by the tests shows up in the summary too.
phase() {
  local name="$1"
  shift
  phase_command "$name" swift test --skip-build "$@"
}

# Runs any command as a phase of the summary.
phase_command() {
  local name="$1" log status begin=$SECONDS
  shift
  log="$(mktemp)"
  echo "==> $name"
  set +e
  "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  if grep -q "NETWORK FAULTS SKIPPED" "$log" && [ -z "$reason" ]; then
    skipped+=("network faults: a test printed the skip banner (see the output above)")
  fi
  # A failed phase's recorded issues (and their messages) are repeated in the summary, so that a
  # log cut to its tail still says which expectation failed and why.
  if [ "$status" -ne 0 ]; then
    while IFS= read -r line; do failures+=("$line"); done < <(grep -A4 -E "recorded an issue|Fatal error" "$log" \
      | grep -vE "^(--|.*(passed|started)( after [0-9.]+ seconds)?\.?)$" | head -40)
  fi
  rm -f "$log"
  phases+=("$([ "$status" -eq 0 ] && echo passed || echo FAILED)  $((SECONDS - begin)) s  $name")
  return "$status"
}

summary() {
  local status=$?
  echo
  echo "==> summary"
  local line
  for line in "${phases[@]}"; do echo "  $line"; done
  if [ ${#failures[@]} -gt 0 ]; then
    echo "  what failed (first 40 lines; the whole output is above):"
    for line in "${failures[@]}"; do echo "    $line"; done
  fi
  if [ ${#skipped[@]} -gt 0 ]; then
    for line in "${skipped[@]}"; do echo "  SKIPPED: $line"; done
  else
    echo "  skipped: nothing (network namespaces available)"
  fi
  echo "  total: $((SECONDS - started)) s, $([ "$status" -eq 0 ] && echo PASSED || echo FAILED)"
}
trap summary EXIT

# Phases, so that timing-sensitive clusters never share the two cores with the CPU-heavy
# simulator sweeps: pure layers (parallel), then the server and end-to-end clusters and the
# ZooKeeper client against real ZooKeeper servers (one test at a time), then the fault-injection
# suite with its 3- and 5-node clusters and network namespaces, then the etcd and ZooKeeper
# backends against real servers and as real processes; then fuzzing, and last, slow (two release
# builds), the Debian package, the container image and a cluster of containers, and the Kubernetes
# manifests (artefacts and lintian's report stay in .build/packages/).
phase "core, runtime, wire, simulator, command-line, client and ballot-writer tests" \
  --filter 'BallotCoreTests|BallotRuntimeTests|BallotWireTests|BallotSimulationTests|BallotNodeCommandTests|BallotClientTests|BallotChildRunTests'
phase "server, end-to-end and ZooKeeper client tests (serial: real clusters with short timeouts)" \
  --no-parallel --filter 'BallotServerTests|BallotEndToEndTests|BallotZooKeeperTests'
phase "fault-injection suite (BallotFaultTests)" --no-parallel --filter BallotFaultTests
phase "election backends against real etcd and ZooKeeper (BallotBackendsTests, serial)" --no-parallel --filter BallotBackendsTests
# A debug build of the targets (still with the address sanitizer): minutes faster to build, and
# 10 s finds what it finds either way; the long runs (docs/reliability.md) use release builds.
phase_command "fuzzing (scripts/fuzz.sh: every libFuzzer target for 10 s from its seed corpus)" \
  env FUZZ_CONFIGURATION=debug scripts/fuzz.sh 10
phase "packaging: Debian package, container image, Kubernetes manifests (BallotPackagingTests)" \
  --no-parallel --filter BallotPackagingTests
