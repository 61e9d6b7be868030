import BallotHarness
import Foundation
import Glibc

/// The `ballot` binary under test: `BALLOT_BINARY`, else the debug build next to this checkout.
func ballotBinary() throws -> String {
    if let path = ProcessInfo.processInfo.environment["BALLOT_BINARY"], !path.isEmpty { return path }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let path = root.appendingPathComponent(".build/debug/ballot").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw Subprocess.Failure(description: "no ballot binary at \(path); run `swift build` first or set BALLOT_BINARY")
    }
    return path
}

/// A fresh directory under /tmp for one test's data.
func temporaryDirectory(_ name: String) -> String {
    let path = NSTemporaryDirectory() + "ballot-faults-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Whether this machine lets the harness create network namespaces, probed once, synchronously
/// (Swift Testing evaluates `.enabled(if:)` before the test runs). Without them the network cases
/// FAIL, unless `BALLOT_ALLOW_NO_NAMESPACES=1` allows the skip; a skip is announced by a banner in
/// large letters and reported as skipped, never counted as passed (README, docs/reliability.md).
enum Namespaces {
    /// The one switch that lets the network cases be skipped; `scripts/test.sh` reports it in its summary.
    static let allowSkipVariable = "BALLOT_ALLOW_NO_NAMESPACES"

    static let unavailableReason: String? = {
        for tool in ["ip", "nft", "tc"] where Subprocess.locate(tool) == nil {
            return "`\(tool)` is not installed (scripts/test.sh installs iproute2 and nftables)"
        }
        guard getuid() == 0 else { return "network namespaces need root" }
        let name = "\(NetworkLab.prefix)\(getpid())-probe"
        guard run(["ip", "netns", "add", name]) else { return "the kernel refused `ip netns add`" }
        let nft = run(["ip", "netns", "exec", name, "nft", "add", "table", "inet", "probe"])
        _ = run(["ip", "netns", "del", name])
        return nft ? nil : "nftables does not work inside a namespace"
    }()

    static var skipAllowed: Bool { ProcessInfo.processInfo.environment[allowSkipVariable] == "1" }

    /// Whether the network cases run: always, unless namespaces are unavailable and the skip is allowed.
    static var runNetworkCases: Bool {
        guard let unavailableReason else { return true }
        print(FaultSuite.skipBanner(unavailableReason))
        return !skipAllowed
    }

    private static func run(_ arguments: [String]) -> Bool {
        guard let executable = Subprocess.locate(arguments[0]),
              let process = try? ChildProcess(executable, arguments: Array(arguments.dropFirst()), output: .null, error: .null)
        else { return false }
        guard let exit = process.waitForExitBlocking(timeout: .seconds(10)) else {
            process.signal(SIGKILL)
            process.waitForExitBlocking(timeout: .seconds(10))
            return false
        }
        return exit == .exited(0)
    }
}
