#!/usr/bin/env bash
# The deployable build: self-contained binaries in .build/deploy/release/ — `ballotd` (one node, what
# to deploy) and `ballot` (the whole CLI) — the build the benchmarks measure. Compared with a plain
# `swift build -c release`, it
#   --static-swift-stdlib          carries the Swift runtime and Foundation inside the binary: nothing
#                                  to install on the target host, and no shared libraries to map;
#   -z pack-relative-relocs (lld)  packs the ~100,000 start-up relocations (RELR), so the loader
#                                  reads 18 KiB instead of 2.3 MiB of relocation entries;
#   --no-export-dynamic            keeps the binary's symbols out of the dynamic symbol table, which
#                                  nothing loads against (backtraces read the full symbol table);
#   -function-sections and         put every function in a section of its own and lay out the ones a
#   --symbol-ordering-file         starting and idling node runs (deploy/ballotd.order, made by
#                                  scripts/profile-code-order.sh) next to each other, so the code that
#                                  is ever run faults in as a few dense MiB instead of 64 KiB
#                                  fault-around windows scattered over 40 MB of text.
# Together they take an idle node from 28 MiB resident to under 19 (`ballotd`; docs/performance.md). The
# packed relocations need glibc 2.36 or newer on the host that runs the binary (Debian 12,
# Ubuntu 24.04); for older hosts run with BALLOT_PORTABLE=1, which leaves them unpacked (+2 MiB).
# A separate scratch path keeps these flags from forcing rebuilds of the everyday debug and
# release builds.
set -euo pipefail
cd "$(dirname "$0")/.."
flags=(-c release --scratch-path .build/deploy --static-swift-stdlib
       -Xswiftc -use-ld=lld -Xlinker --no-export-dynamic)
flags+=(-Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections)
if [ -f deploy/ballotd.order ]; then
  flags+=(-Xlinker "--symbol-ordering-file=$PWD/deploy/ballotd.order" -Xlinker --no-warn-symbol-ordering)
fi
if [ "${BALLOT_PORTABLE:-0}" != 1 ]; then
  flags+=(-Xlinker -z -Xlinker pack-relative-relocs)
fi
for product in ballotd ballot; do
  swift build "${flags[@]}" --product "$product" 2>&1 | { grep -vE '^\[[0-9]+/[0-9]+\] ' || true; }
done
echo "built .build/deploy/release/ballotd and .build/deploy/release/ballot"
