// swift-tools-version: 6.0
import Foundation
import PackageDescription

/// libFuzzer targets for Ballot, in a package of their own so that `swift build` and `swift test`
/// of the main package never see them: they have no `main` (libFuzzer supplies it) and only link
/// with `-sanitize=fuzzer`. Build and run them with `scripts/fuzz.sh`, which passes:
///
///     swift build --package-path Fuzz -c release -Xswiftc -sanitize=fuzzer,address \
///         -Xswiftc -parse-as-library -Xcc -fsanitize=fuzzer-no-link,address
///
/// A path dependency is known by its directory's name, which is whatever the checkout is called.
let ballot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let ballotPackage = ballot.lastPathComponent.lowercased()

func fuzzTarget(_ name: String, directory: String, _ products: [String]) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["FuzzDriver"] + products.map { .product(name: $0, package: ballotPackage) },
        path: "Sources/\(directory)")
}

let package = Package(
    name: "BallotFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "..")],
    targets: [
        // libFuzzer's driver, called from each target's entry point.
        .target(name: "CFuzzerDriver"),
        .target(name: "FuzzDriver", dependencies: ["CFuzzerDriver"]),
        // Bytes → frames: the streaming decoder, the in-place decoder and the encoder agree.
        fuzzTarget("fuzz-frame-decoder", directory: "FuzzFrameDecoder", ["BallotWire", "BallotCore"]),
        // Byte streams between two peer sessions with auth method 1, real proofs and injected bytes.
        fuzzTarget("fuzz-peer-session", directory: "FuzzPeerSession", ["BallotWire", "BallotCore"]),
        // Auth method 1's proof message, proof and verification.
        fuzzTarget("fuzz-cluster-secret", directory: "FuzzClusterSecret", ["BallotWire", "BallotCore"]),
        // The YAML configuration file and every command-line setting's parser.
        fuzzTarget("fuzz-configuration", directory: "FuzzConfiguration", ["BallotServer", "BallotCore"]),
    ],
    swiftLanguageModes: [.v6]
)
