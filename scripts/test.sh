#!/usr/bin/env bash
# Sets up everything the test suite needs on a fresh Debian machine, builds, and runs every test.
# This is the README's test command and what CI runs (.ci/run calls it).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v curl >/dev/null 2>&1 || missing+=(curl)
# The fault suite (BallotFaultTests, `ballot faults`) needs nftables and tc for network faults.
command -v nft >/dev/null 2>&1 || missing+=(nftables)
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
echo "==> core, wire, runtime, simulator and command-line tests"
swift test --skip-build --filter 'BallotCoreTests|BallotWireTests|BallotRuntimeTests|BallotSimulationTests|BallotNodeCommandTests'
echo "==> server and end-to-end tests (serial: real clusters with short timeouts)"
swift test --skip-build --no-parallel --filter 'BallotServerTests|BallotEndToEndTests'
echo "==> fault-injection suite (BallotFaultTests)"
swift test --skip-build --no-parallel --filter BallotFaultTests
# Last, and slow (two release builds): the Debian package, the container image and a cluster of
# containers, the Kubernetes manifests. Artefacts and lintian's report stay in .build/packages/.
echo "==> packaging: Debian package, container image, Kubernetes manifests (BallotPackagingTests)"
swift test --skip-build --no-parallel --filter BallotPackagingTests
