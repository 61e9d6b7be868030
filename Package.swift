// swift-tools-version: 6.0
import PackageDescription

/// Layers, bottom up (docs/architecture.md draws them):
///   BallotCore (pure election state machines) → BallotWire (binary peer protocol)
///   → BallotRuntime (the node driver and the leadership view; no NIO, no Foundation)
///   → BallotSimulation (virtual clock, network and disk) and BallotServer (NIO and file adapters)
///   → `ballotd` (the node alone) and `ballot` (the CLI).
/// BallotChildRun and `ballot-writer` (the sidecar fault suite's leader-only writer, started fast)
/// stand on BallotRuntime alone.
/// BallotClient (HTTP client, `/leader` and `/status` types, event lines, the `/events` reader, the
/// `ballot run` sidecar and `ballot watch`) stands apart from the
/// server: the client commands and the harness use it without linking a node. BallotZooKeeper (a
/// ZooKeeper client on NIO, for the ZooKeeper election backend) links NIO and swift-log only.
let package = Package(
    name: "Ballot",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "BallotCore", targets: ["BallotCore"]),
        .library(name: "BallotWire", targets: ["BallotWire"]),
        .library(name: "BallotRuntime", targets: ["BallotRuntime"]),
        .library(name: "BallotClient", targets: ["BallotClient"]),
        .library(name: "BallotServer", targets: ["BallotServer"]),
        .library(name: "BallotZooKeeper", targets: ["BallotZooKeeper"]),
        .library(name: "BallotBackends", targets: ["BallotBackends"]),
        .executable(name: "ballot", targets: ["ballot"]),
        .executable(name: "ballotd", targets: ["ballotd"]),
        .executable(name: "ballot-embedded-example", targets: ["ballot-embedded-example"]),
        .executable(name: "ballot-writer", targets: ["ballot-writer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.0"),
    ],
    targets: [
        // Pure, deterministic election state machines. No dependencies, no I/O, no clocks.
        .target(name: "BallotCore"),
        // The binary peer protocol: frames, handshake, strict decoding, peer authentication.
        // Pure Swift, no NIO; swift-crypto for the cluster secret's HMAC-SHA256.
        .target(
            name: "BallotWire",
            dependencies: ["BallotCore", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The node driver (core + logical clock + action order) and the leadership view. Reaches the
        // world only through protocols (durable state, outbox, clock): no NIO, no Foundation.
        .target(name: "BallotRuntime", dependencies: ["BallotCore"]),
        // Seeded deterministic cluster simulator: drives BallotRuntime's node driver with a virtual
        // clock, network and disk, with fault injection and invariant checks.
        .target(name: "BallotSimulation", dependencies: ["BallotCore", "BallotWire", "BallotRuntime"]),
        // What talks to a node from outside: the HTTP client, the /leader and /status bodies, the
        // event-line format. Links no server.
        .target(
            name: "BallotClient",
            dependencies: [
                "BallotCore", "BallotRuntime", "CProcessSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The Linux process calls Swift's Glibc does not import (pipe2, ppoll, prctl, closefrom,
        // real-time and idle scheduling), for the sidecar's process-group keeper (`ballot run`), the
        // events benchmark's subscribers and the harness's child processes.
        .target(name: "CProcessSupport"),
        // The version and git revision of this build, generated during the build by RecordBuildInfo.
        .target(name: "BallotBuildInfo", plugins: [.plugin(name: "RecordBuildInfo")]),
        .plugin(name: "RecordBuildInfo", capability: .buildTool()),
        // The shell: NIO transport, timers, durable state, HTTP, metrics, logging.
        .target(
            name: "BallotServer",
            dependencies: [
                "BallotCore", "BallotWire", "BallotRuntime", "BallotClient", "BallotBuildInfo", "BallotBackends",
                "BallotZooKeeper",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Making a certificate authority and node certificates for peer TLS (`ballot certs`, `ballot
        // local`, the harness): swift-certificates and swift-crypto keys, PEM files with safe permissions.
        .target(
            name: "BallotCertificates",
            dependencies: [
                "BallotCore", "BallotWire",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // A ZooKeeper client (jute wire format, sessions, watches) on NIO; knows nothing of Ballot.
        .target(
            name: "BallotZooKeeper",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Producers of leadership other than the built-in cores: an etcd backend (v3 JSON gateway on
        // NIOHTTP1, optional TLS) and a ZooKeeper backend (BallotZooKeeper). Each feeds the node's
        // LeadershipView exactly as the node driver does; knows nothing of the server.
        .target(
            name: "BallotBackends",
            dependencies: [
                "BallotCore", "BallotRuntime", "BallotClient", "BallotZooKeeper",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // One node's flags and start-up, shared by `ballot serve` and `ballotd`.
        .target(
            name: "BallotNodeCommand",
            dependencies: [
                "BallotServer", "BallotBuildInfo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The node alone, for deployment: `ballot serve` without the rest of the CLI in its memory.
        .executableTarget(name: "ballotd", dependencies: ["BallotNodeCommand", "BallotServer", "BallotBuildInfo"]),
        // The leader-only writer of the sidecar fault suite and `ballot bench lock`: its record line
        // (`ChildRun`), the loop that stamps it, its flags. BallotRuntime (the monotonic clock) and
        // Glibc only: no Foundation, no NIO, no argument parser.
        .target(name: "BallotChildRun", dependencies: ["BallotRuntime"]),
        // That writer as a program of its own, next to `ballot`: every hand-over gap the suite and the
        // lock benchmark measure includes its start-up, exec to first record. As `ballot sidecar-writer`
        // (the whole CLI, 120 MB in debug) it took about 14 ms; alone but dynamically linked, about 4 ms
        // (loading the Swift runtime's shared libraries); linked statically on Linux, about 2 ms, where a
        // C program takes 1.3 ms. lld, because it does not repeat glibc's link-time warning about the
        // runtime's dlopen in a static executable. A test tool: not packaged.
        .executableTarget(
            name: "ballot-writer",
            dependencies: ["BallotChildRun"],
            linkerSettings: [.unsafeFlags(["-static-executable", "-use-ld=lld"], .when(platforms: [.linux]))]
        ),
        // Runs clusters of real `ballot serve` processes: `ballot local`, benchmarks, end-to-end tests;
        // and real coordination servers (ZooKeeper) for the backends' tests.
        .target(
            name: "BallotHarness",
            dependencies: [
                "BallotCore", "BallotRuntime", "BallotClient", "BallotSimulation", "BallotWire", "BallotCertificates",
                "BallotChildRun", "CProcessSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .executableTarget(
            name: "ballot",
            dependencies: [
                "BallotCore", "BallotRuntime", "BallotClient", "BallotServer", "BallotSimulation", "BallotHarness", "BallotNodeCommand",
                "BallotCertificates", "BallotBuildInfo", "CProcessSupport", "BallotChildRun",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Issue 15: a program that embeds a node and does leader-only work with a fencing token
        // (docs/applications.md); the end-to-end tests run it.
        .executableTarget(
            name: "ballot-embedded-example",
            dependencies: [
                "BallotCore", "BallotRuntime", "BallotServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Examples/ballot-embedded-example"
        ),
        // The codec benchmark: `swift run -c release ballot-wire-bench`. Its allocator counter is
        // linked into this executable only.
        .target(name: "CMallocCounter"),
        .executableTarget(
            name: "ballot-wire-bench",
            dependencies: [
                "BallotCore", "BallotWire", "BallotCertificates", "CMallocCounter",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            linkerSettings: [.linkedLibrary("m")]
        ),
        // One test kit for driving clusters in tests: in-memory clusters of cores and of node drivers.
        .target(name: "BallotTestKit", dependencies: ["BallotCore", "BallotRuntime"], path: "Tests/BallotTestKit"),
        .testTarget(name: "BallotCoreTests", dependencies: ["BallotCore", "BallotTestKit"]),
        .testTarget(name: "BallotWireTests", dependencies: ["BallotWire"]),
        .testTarget(
            name: "BallotNodeCommandTests",
            dependencies: ["BallotNodeCommand", "BallotServer", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "BallotRuntimeTests", dependencies: ["BallotRuntime", "BallotTestKit"]),
        .testTarget(name: "BallotSimulationTests", dependencies: ["BallotSimulation", "BallotRuntime"]),
        // The ZooKeeper client: golden bytes and garbage for the codec, then real ZooKeeper servers.
        .testTarget(
            name: "BallotZooKeeperTests",
            dependencies: [
                "BallotZooKeeper", "BallotHarness",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The client's pure parts: the event-stream parser, the /events contract, the sidecar's timing
        // machine and keeper protocol, the watch lines.
        .testTarget(name: "BallotClientTests", dependencies: ["BallotClient", "BallotRuntime"]),
        // The sidecar writer's record line, recording loop and hand-parsed flags (its durations checked
        // against the node's DurationParser, hence BallotServer).
        .testTarget(name: "BallotChildRunTests", dependencies: ["BallotChildRun", "BallotServer"]),
        // The election backends against real etcd and ZooKeeper servers (single and three-server).
        .testTarget(
            name: "BallotBackendsTests",
            dependencies: [
                "BallotBackends", "BallotHarness", "BallotRuntime", "BallotCore", "BallotZooKeeper", "BallotSimulation",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "BallotEndToEndTests",
            dependencies: [
                "BallotHarness", "BallotClient", "BallotRuntime", "BallotServer", "BallotCertificates", "BallotWire",
                "BallotCore", "BallotTestKit", "BallotBuildInfo", "BallotChildRun",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // The deployable artefacts: the Debian package (dpkg, lintian, systemd-analyze), the
        // container image (podman), the Kubernetes manifests (kubernetes-validate). Slow; the last
        // phase of scripts/test.sh.
        .testTarget(name: "BallotPackagingTests", dependencies: ["BallotClient", "BallotHarness"]),
        // Fault injection on real processes (signals, network namespaces) and the history checker.
        .testTarget(
            name: "BallotFaultTests",
            dependencies: ["BallotHarness", "BallotChildRun", "BallotClient", "BallotRuntime", "BallotCore", "BallotSimulation"]),
        .testTarget(
            name: "BallotServerTests",
            dependencies: [
                "BallotServer", "BallotWire", "BallotHarness", "BallotClient", "BallotRuntime", "BallotTestKit",
                "BallotCertificates",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
