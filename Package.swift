// swift-tools-version: 6.0
import PackageDescription

/// Layers, bottom up: BallotCore (pure state machines) → BallotWire (binary peer protocol)
/// → BallotSimulation (seeded cluster simulator) and BallotServer (NIO shell) → `ballot` (CLI) and
/// `ballotd` (the node alone).
let package = Package(
    name: "Ballot",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "BallotCore", targets: ["BallotCore"]),
        .library(name: "BallotWire", targets: ["BallotWire"]),
        .library(name: "BallotServer", targets: ["BallotServer"]),
        .executable(name: "ballot", targets: ["ballot"]),
        .executable(name: "ballotd", targets: ["ballotd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
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
        // Seeded deterministic cluster simulator with fault injection and invariant checks.
        .target(name: "BallotSimulation", dependencies: ["BallotCore", "BallotWire"]),
        // The shell: NIO transport, timers, durable state, HTTP, metrics.
        .target(
            name: "BallotServer",
            dependencies: [
                "BallotCore", "BallotWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // One node's flags and start-up, shared by `ballot serve` and `ballotd`.
        .target(
            name: "BallotNodeCommand",
            dependencies: [
                "BallotServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The node alone, for deployment: `ballot serve` without the rest of the CLI in its memory.
        .executableTarget(name: "ballotd", dependencies: ["BallotNodeCommand", "BallotServer"]),
        // Runs clusters of real `ballot serve` processes: `ballot local`, benchmarks, end-to-end tests.
        .target(name: "BallotHarness", dependencies: ["BallotCore", "BallotServer"]),
        .executableTarget(
            name: "ballot",
            dependencies: [
                "BallotCore", "BallotSimulation", "BallotServer", "BallotHarness", "BallotNodeCommand",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The codec benchmark: `swift run -c release ballot-wire-bench`. Its allocator counter is
        // linked into this executable only.
        .target(name: "CMallocCounter"),
        .executableTarget(
            name: "ballot-wire-bench", dependencies: ["BallotCore", "BallotWire", "CMallocCounter"],
            linkerSettings: [.linkedLibrary("m")]
        ),
        .testTarget(name: "BallotCoreTests", dependencies: ["BallotCore"]),
        .testTarget(name: "BallotWireTests", dependencies: ["BallotWire"]),
        .testTarget(name: "BallotSimulationTests", dependencies: ["BallotSimulation"]),
        .testTarget(name: "BallotEndToEndTests", dependencies: ["BallotHarness", "BallotServer"]),
        // Fault injection on real processes (signals, network namespaces) and the history checker.
        .testTarget(name: "BallotFaultTests", dependencies: ["BallotHarness", "BallotServer", "BallotCore"]),
        .testTarget(
            name: "BallotServerTests",
            dependencies: [
                "BallotServer", "BallotWire", "BallotHarness",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
