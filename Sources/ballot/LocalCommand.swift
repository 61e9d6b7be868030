import ArgumentParser
import BallotCore
import BallotHarness
import BallotNodeCommand
import BallotClient
import BallotServer
import Foundation
import Glibc

/// `ballot local`: the one-command demo — a cluster of real processes on loopback.
struct LocalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "local",
        abstract: "Run a local cluster of separate `ballot serve` processes on 127.0.0.1 and watch its elections.",
        discussion: """
            Node i listens for peers on 127.0.0.1:(7000+i) and serves HTTP on 127.0.0.1:(9100+i): try
            curl 127.0.0.1:9101/metrics or `ballot status --http 127.0.0.1:9101`. Each leadership change is
            printed as it happens. Ctrl-C stops every node (a leader hands over first).
            Peers use mutual TLS by default: a CA and a certificate per node (URI SAN ballot://local/<id>) are \
            made in <data-dir>/credentials. --peer-security secret or tls+secret adds or uses a cluster secret; \
            --insecure runs without authentication, for comparison.
            """
    )

    @Option(help: "Number of nodes.")
    var nodes: Int = 3

    @Option(help: "Kill the leader with SIGKILL at this interval and restart it, e.g. 10s, to watch failover.")
    var killLeaderEvery: String?

    @Option(help: "Stop by itself after this long, e.g. 30s (default: run until Ctrl-C).")
    var duration: String?

    @Option(help: "Election timeout T of every node.")
    var electionTimeout: String = "1s"

    @Option(help: "Heartbeat interval of every node.")
    var heartbeatInterval: String = "100ms"

    @Option(help: "First peer port; node i uses base+i-1.")
    var peerBasePort: Int = 7001

    @Option(help: "First HTTP port; node i uses base+i-1.")
    var httpBasePort: Int = 9101

    @Option(help: "Where the nodes keep their state (default: a new directory under /tmp).")
    var dataDir: String?

    @Option(help: "Election algorithm: raft.")
    var algorithm: String = "raft"

    @Option(help: "How peers authenticate: tls (default), secret, tls+secret or insecure.")
    var peerSecurity: String = "tls"

    @Flag(help: "Run without peer authentication (the same as --peer-security insecure).")
    var insecure = false

    func validate() throws {
        guard (1...99).contains(nodes) else { throw ValidationError("--nodes must be between 1 and 99") }
        guard PeerSecurity(rawValue: peerSecurity) != nil else {
            throw ValidationError("--peer-security must be one of \(PeerSecurity.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        for text in [killLeaderEvery, duration].compactMap({ $0 }) + [electionTimeout, heartbeatInterval] {
            do { _ = try DurationParser.parse(text) } catch { throw ValidationError("\(text): \(error)") }
        }
    }

    func run() async throws {
        var settings = LocalCluster.Settings()
        settings.nodes = nodes
        settings.peerBasePort = peerBasePort
        settings.httpBasePort = httpBasePort
        settings.electionTimeout = electionTimeout
        settings.heartbeatInterval = heartbeatInterval
        settings.algorithm = algorithm
        settings.peerSecurity = insecure ? .insecure : PeerSecurity(rawValue: peerSecurity)!
        let directory = dataDir ?? NSTemporaryDirectory() + "ballot-local-\(getpid())"
        let cluster = LocalCluster(settings: settings, binary: ballotExecutable(), dataDirectory: directory) { event in
            printLine(Self.describe(event))
        }
        printLine("starting \(nodes) nodes (state in \(directory)); HTTP on 127.0.0.1:\(httpBasePort)…\(httpBasePort + nodes - 1)")
        printLine("peers: \(settings.peerSecurity)"
                  + (cluster.credentials.map { " (credentials in \($0.directory))" } ?? " (no authentication)"))
        printLine("Ctrl-C stops the cluster.")
        do {
            try cluster.startAll()
        } catch {
            CommandLineErrors.fail("ballot local: cannot start the nodes: \(error)")
        }
        let stop = SignalWaiter(signals: [SIGINT, SIGTERM])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await stop.wait() }
            if let duration { group.addTask { try await Task.sleep(for: try DurationParser.parse(duration)) } }
            if let killLeaderEvery {
                let interval = try DurationParser.parse(killLeaderEvery)
                let timeout = try DurationParser.parse(electionTimeout)
                group.addTask { try await Self.killLeaders(cluster, every: interval, electionTimeout: timeout) }
            }
            _ = try await group.next()
            group.cancelAll()
        }
        printLine("stopping…")
        await cluster.stopAll()
        printLine("all nodes stopped")
    }

    static func describe(_ event: LeadershipEventLine) -> String {
        switch event.kind {
        case .elected:
            let leaderless = event.leaderlessMilliseconds.map { String(format: "%.1f ms", $0) } ?? "?"
            return "[node \(event.node)] leader is node \(event.leader)\(event.isSelf ? " (itself)" : ""), term \(event.term), after \(leaderless) without a leader"
        case .lost:
            return "[node \(event.node)] lost leader node \(event.leader) (term \(event.term))"
        }
    }

    /// Kills whoever leads with SIGKILL, restarts it after two election timeouts, and repeats.
    static func killLeaders(_ cluster: LocalCluster, every interval: Duration, electionTimeout: Duration) async throws {
        while !Task.isCancelled {
            try await Task.sleep(for: interval)
            guard let leader = await cluster.currentLeader(), let id = NodeID(leader.self_) else {
                printLine("(no leader to kill right now)")
                continue
            }
            printLine(">>> killing leader node \(id) (term \(leader.term)) with SIGKILL")
            let node = cluster.node(id)
            node.signal(SIGKILL)
            await node.waitForExit(timeout: .seconds(5))
            try await Task.sleep(for: electionTimeout * 2)
            printLine(">>> restarting node \(id)")
            try node.start()
        }
    }
}

/// Prints one line with a single write(2), so lines from several threads never interleave.
func printLine(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    bytes.withUnsafeBytes { _ = Glibc.write(STDOUT_FILENO, $0.baseAddress, $0.count) }
}

/// The path of the running `ballot` binary, so children run exactly this build.
func ballotExecutable() -> String {
    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
}

/// Suspends until one of the signals arrives, or the waiting task is cancelled (the default action
/// of the signals is replaced while waiting).
final class SignalWaiter: Sendable {
    let signals: [Int32]
    private let state = Mutex<(fired: Bool, continuation: CheckedContinuation<Void, Never>?)>((false, nil))

    init(signals: [Int32]) {
        self.signals = signals
        for signal in signals { Glibc.signal(signal, SIG_IGN) }
    }

    func wait() async {
        let sources = signals.map { DispatchSource.makeSignalSource(signal: $0, queue: .global()) }
        for source in sources {
            source.setEventHandler { [self] in fire() }
            source.resume()
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.fired { return true }
                    state.continuation = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            fire()
        }
        for source in sources { source.cancel() }
    }

    private func fire() {
        let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.fired = true
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume()
    }
}

import Synchronization
