#!/usr/bin/env bash
# Builds the ballotd container image offline: a fully static ballotd (-static-executable: no glibc
# needed at run time, so the image can be FROM scratch) and deploy/container/Containerfile.prebuilt,
# with podman build (or buildah bud when podman is missing). Tags localhost/ballotd:<version> and
# localhost/ballotd:latest, and writes an OCI archive to .build/packages/ (or $1) for loading
# elsewhere (`podman load -i …`). With network access, deploy/container/Containerfile builds the
# same image from source. docs/deployment.md describes the image.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.build/packages}
mkdir -p "$out"

echo "==> building a fully static ballotd"
# Laid out like the deployable build (scripts/build-release.sh): per-function sections, linked by lld
# in the order of deploy/ballotd.order, so an idle node's resident code stays a few dense MiB.
swift build -c release --scratch-path .build/static --static-swift-stdlib -Xswiftc -static-executable \
  -Xswiftc -use-ld=lld -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections \
  -Xlinker "--symbol-ordering-file=$PWD/deploy/ballotd.order" -Xlinker --no-warn-symbol-ordering \
  -Xlinker --no-export-dynamic --product ballotd 2>&1 | { grep -vE '^\[[0-9]+/[0-9]+\] ' || true; }
binary=.build/static/release/ballotd
if file "$binary" | grep -q "dynamically linked"; then
  echo "build-image: $binary is dynamically linked; an image FROM scratch needs a static binary" >&2
  exit 1
fi

context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
strip --strip-unneeded -o "$context/ballotd" "$binary"
cp deploy/container/ballotd.yaml "$context/ballotd.yaml"
mkdir "$context/state"
version=$("$context/ballotd" --version | cut -d' ' -f1)
tag="localhost/ballotd:${version//+/_}"

echo "==> building $tag"
# The image :latest pointed at before, removed below if this build leaves it untagged.
previous=$(podman image inspect --format '{{.Id}}' localhost/ballotd:latest 2>/dev/null || true)
# podman's defaults here need runc and explicit ulimits (the sandbox's limits are below podman's).
podman_flags=(--runtime runc --ulimit nofile=20000:20000 --ulimit nproc=32768:32768)
if command -v podman >/dev/null 2>&1; then
  podman build "${podman_flags[@]}" --layers=false -f deploy/container/Containerfile.prebuilt \
    -t "$tag" -t localhost/ballotd:latest "$context" >/dev/null
  podman image save --format oci-archive -o "$out/ballotd-${version}.oci.tar" "$tag" >/dev/null
  size=$(podman image inspect --format '{{.Size}}' "$tag")
else
  buildah bud --runtime runc --layers=false -f deploy/container/Containerfile.prebuilt -t "$tag" -t localhost/ballotd:latest "$context" >/dev/null
  buildah push "$tag" "oci-archive:$out/ballotd-${version}.oci.tar" >/dev/null
  size=$(buildah inspect --format '{{.Size}}' "$tag" 2>/dev/null || echo "?")
fi
if [ -n "$previous" ] && command -v podman >/dev/null 2>&1 \
   && [ "$(podman image inspect --format '{{len .RepoTags}}' "$previous" 2>/dev/null)" = 0 ]; then
  podman rmi "$previous" >/dev/null 2>&1 || true
fi
echo "built $tag ($size bytes; binary $(stat -c %s "$context/ballotd") bytes) and $out/ballotd-${version}.oci.tar"
