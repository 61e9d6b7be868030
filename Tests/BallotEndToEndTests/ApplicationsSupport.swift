import BallotClient
import BallotCore
import BallotHarness
import BallotRuntime
import Foundation
import Glibc

/// Runs `curl` (a real HTTP client) with `arguments` and returns the status code and the body.
func curl(_ arguments: [String], timeout: Duration = .seconds(20)) async throws -> (status: Int, body: String) {
    let text = try await curlOutput(["-w", "\n%{http_code}"] + arguments, timeout: timeout)
    guard let split = text.lastIndex(of: "\n"), let status = Int(text[text.index(after: split)...]) else {
        throw HarnessError("curl \(arguments.joined(separator: " ")) printed no status: \(text)")
    }
    return (status, String(text[..<split]))
}

/// Runs `curl -s -o -` with `arguments` and returns what it printed (the body, then any `-w` text).
func curlOutput(_ arguments: [String], timeout: Duration = .seconds(20)) async throws -> String {
    let process = try ChildProcess(
        "/usr/bin/curl", arguments: ["-s", "-o", "-", "--max-time", "\(Int(timeout.components.seconds))"] + arguments,
        output: .pipe, error: .null)
    // Reading to the end returns once curl exits (it closes its output); curl's own --max-time bounds it.
    let text = process.standardOutput?.readText() ?? ""
    if await process.waitForExit(timeout: .seconds(30)) == nil { process.signal(SIGKILL) }
    return text
}

/// The JSON object of a body, or nil.
func jsonObject(_ text: String) -> [String: Any]? {
    try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
}

/// One Server-Sent Event as a client received it, with the `CLOCK_MONOTONIC` instant it arrived.
struct ReceivedEvent: @unchecked Sendable {
    var id: String?
    var event: String
    var data: [String: Any]
    var receivedAt: UInt64

    func number(_ key: String) -> UInt64? { (data[key] as? NSNumber)?.uint64Value }
    func bool(_ key: String) -> Bool? { (data[key] as? NSNumber)?.boolValue }
    func isNull(_ key: String) -> Bool { data[key] is NSNull }
}

/// `curl -N` following a node's `GET /events`, its events parsed as they arrive.
final class SSEStream: @unchecked Sendable {
    private let process: ChildProcess
    private let lock = NSLock()
    private var received: [ReceivedEvent] = []
    private var comments = 0
    let headerFile: String

    convenience init(port: Int, lastEventID: String? = nil) throws {
        try self.init(url: "http://127.0.0.1:\(port)/events", lastEventID: lastEventID)
    }

    /// `curlArguments` choose the protocol and credentials, e.g. `--http2-prior-knowledge` (h2c)
    /// or `--http2 --cacert ca.pem` (h2 over TLS).
    init(url: String, lastEventID: String? = nil, curlArguments: [String] = []) throws {
        headerFile = NSTemporaryDirectory() + "ballot-sse-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).headers"
        var arguments = ["-sN", "-D", headerFile] + curlArguments
        if let lastEventID { arguments += ["-H", "Last-Event-ID: \(lastEventID)"] }
        process = try ChildProcess("/usr/bin/curl", arguments: arguments + [url], output: .pipe, error: .null)
        guard let reader = process.standardOutput else { return }
        Thread.detachNewThread { [weak self] in
            var fields: [String: String] = [:]
            reader.forEachLine { line in
                guard let self else { return }
                if line.isEmpty {
                    if let name = fields["event"], let data = fields["data"], let object = jsonObject(data) {
                        let event = ReceivedEvent(id: fields["id"], event: name, data: object,
                                                  receivedAt: SystemMonotonicClock.now.nanoseconds)
                        self.lock.withLock { self.received.append(event) }
                    }
                    fields = [:]
                } else if line.hasPrefix(":") {
                    self.lock.withLock { self.comments += 1 }
                } else if let colon = line.firstIndex(of: ":") {
                    let value = line[line.index(after: colon)...].drop { $0 == " " }
                    fields[String(line[..<colon])] = String(value)
                }
            }
        }
    }

    var events: [ReceivedEvent] { lock.withLock { received } }
    var keepAlives: Int { lock.withLock { comments } }

    /// The response head curl saved, lower-cased.
    var headers: String { ((try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? "").lowercased() }

    /// Waits (bounded) until `condition` holds for the events received so far.
    @discardableResult
    func wait(timeout: Duration, until condition: ([ReceivedEvent]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(events) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition(events)
    }

    /// Ends curl (SIGKILL: it has nothing to flush) and removes its header file.
    func stop() {
        process.signal(SIGKILL)
        try? FileManager.default.removeItem(atPath: headerFile)
    }

    deinit { stop() }
}

/// A local cluster with per-node flags, advertised URLs and short timeouts; stopped afterwards.
func withApplicationCluster<T>(
    nodes: Int = 3, electionTimeout: String = "300ms", heartbeat: String = "50ms", extra: [String] = [],
    perNode: [NodeID: [String]] = [:], nodeBinary: String? = nil, start: Bool = true, httpTLS: HTTPClientTLS? = nil,
    _ body: (LocalCluster) async throws -> T
) async throws -> T {
    var settings = LocalCluster.Settings()
    settings.nodes = nodes
    settings.peerBasePort = LoopbackPorts.consecutiveFree(nodes, from: Int.random(in: 20_000...50_000))
    settings.httpBasePort = LoopbackPorts.consecutiveFree(nodes, from: settings.peerBasePort + nodes)
    settings.electionTimeout = electionTimeout
    settings.heartbeatInterval = heartbeat
    settings.cluster = "apps"
    settings.extraArguments = extra
    settings.perNodeArguments = perNode
    settings.advertiseHTTP = true
    settings.nodeBinary = nodeBinary
    settings.httpTLS = httpTLS
    let directory = temporaryDirectory("apps")
    let local = LocalCluster(settings: settings, binary: try ballotBinary(), dataDirectory: directory)
    if start { try local.startAll() } else { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
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

/// The `ballot-embedded-example` binary next to the `ballot` under test.
func embeddedExampleBinary() throws -> String {
    let path = URL(fileURLWithPath: try ballotBinary()).deletingLastPathComponent()
        .appendingPathComponent("ballot-embedded-example").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw HarnessError("no ballot-embedded-example at \(path); run `swift build` first")
    }
    return path
}
