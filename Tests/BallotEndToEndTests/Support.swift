import BallotClient
import BallotCore
import BallotHarness
import Foundation
import Testing

/// The `ballot` binary under test: `BALLOT_BINARY`, else the debug build next to this checkout.
func ballotBinary() throws -> String {
    try builtBinary("ballot", override: "BALLOT_BINARY")
}

/// The `ballotd` binary under test: `BALLOTD_BINARY`, else the debug build next to this checkout.
func ballotdBinary() throws -> String {
    try builtBinary("ballotd", override: "BALLOTD_BINARY")
}

private func builtBinary(_ name: String, override: String) throws -> String {
    if let path = ProcessInfo.processInfo.environment[override], !path.isEmpty { return path }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let path = root.appendingPathComponent(".build/debug/\(name)").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw HarnessError("no \(name) binary at \(path); run `swift build` first or set \(override)")
    }
    return path
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A fresh directory under /tmp for one test's data.
func temporaryDirectory(_ name: String) -> String {
    let path = NSTemporaryDirectory() + "ballot-e2e-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A local cluster on free loopback ports with short timeouts, stopped and removed afterwards.
func withCluster<T>(
    nodes: Int = 3, electionTimeout: String = "300ms", heartbeat: String = "50ms", cluster: String = "e2e",
    algorithm: String = "raft", extra: [String] = [], nodeBinary: String? = nil, httpTLS: HTTPClientTLS? = nil,
    security: PeerSecurity = .insecure, credentials: String? = nil, logLevel: String = "warning",
    _ body: (LocalCluster) async throws -> T
) async throws -> T {
    var settings = LocalCluster.Settings()
    settings.nodes = nodes
    settings.peerBasePort = LoopbackPorts.consecutiveFree(nodes, from: Int.random(in: 20_000...50_000))
    settings.httpBasePort = LoopbackPorts.consecutiveFree(nodes, from: settings.peerBasePort + nodes)
    settings.electionTimeout = electionTimeout
    settings.heartbeatInterval = heartbeat
    settings.cluster = cluster
    settings.algorithm = algorithm
    settings.extraArguments = extra
    settings.nodeBinary = nodeBinary
    settings.peerSecurity = security
    settings.credentialsDirectory = credentials
    settings.logLevel = logLevel
    settings.httpTLS = httpTLS
    let directory = temporaryDirectory("cluster")
    let local = LocalCluster(settings: settings, binary: try ballotBinary(), dataDirectory: directory)
    try local.startAll()
    do {
        let result = try await body(local)
        await local.stopAll()
        try? FileManager.default.removeItem(atPath: directory)
        return result
    } catch {
        for node in local.nodes { print("--- node \(node.id) log ---\n\(node.log.suffix(3000))") }
        await local.stopAll()
        try? FileManager.default.removeItem(atPath: directory)
        throw error
    }
}

/// Runs `ballot` with arguments and returns its exit status and standard error (bounded in time).
func runBallot(_ arguments: [String], timeout: Duration = .seconds(20)) async throws -> (status: Int32, stderr: String) {
    let process = try ChildProcess(try ballotBinary(), arguments: arguments, output: .null, error: .pipe)
    guard let exit = await process.waitForExit(timeout: timeout) else {
        process.signal(SIGTERM)
        throw HarnessError("ballot \(arguments.joined(separator: " ")) did not exit within \(timeout)")
    }
    return (exit.shellStatus, process.standardError?.readText() ?? "")
}

extension ChildProcess {
    /// Waits up to `timeout` for the process to end, stops it with SIGTERM if it still runs, and
    /// returns how it ended (nil if not even then) with everything it wrote to `pipe`.
    func finish(within timeout: Duration, reading pipe: ChildPipe?) async -> (exit: ChildExit?, text: String) {
        var exit = await waitForExit(timeout: timeout)
        if exit == nil { signal(SIGTERM) }
        let text = pipe?.readText() ?? ""
        if exit == nil { exit = await waitForExit(timeout: .seconds(10)) }
        return (exit, text)
    }
}
