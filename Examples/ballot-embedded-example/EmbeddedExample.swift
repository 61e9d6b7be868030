import ArgumentParser
import BallotCore
import BallotRuntime
import BallotServer
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A program that embeds a Ballot node and does leader-only work (docs/applications.md, "Embedded"):
/// while this node leads, it appends an entry to a shared, fenced ledger every `--work-interval`,
/// each carrying its fencing token; it stops the moment its lease ends or is about to, and resigns
/// after `--resign-after` entries. Its standard output is one line per step, with
/// `CLOCK_MONOTONIC` instants, for people and for the end-to-end tests:
///
/// ```
/// leading term=3 deadline_ns=…
/// wrote term=3 entry=1 mono_ns=… deadline_ns=…
/// stopped term=3 reason=deadline_approaching mono_ns=… deadline_ns=…
/// fenced term=2 highest=3 mono_ns=…
/// resigned term=3 value=5 mono_ns=…
/// ```
@main
struct EmbeddedExample: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ballot-embedded-example",
        abstract: "Embed a Ballot node and append to a fenced ledger only while this node leads.")

    @Option(help: "This node's ID.") var id: String
    @Option(help: "Peer listener, HOST:PORT.") var listen: String
    @Option(name: .customLong("peer"), help: "Another member, ID=HOST:PORT; repeat.") var peers: [String] = []
    @Option(help: "HTTP endpoint, HOST:PORT (optional).") var http: String?
    @Option(help: "Data directory of the node.") var dataDir: String
    @Option(help: "Election timeout.") var electionTimeout = "1s"
    @Option(help: "Heartbeat interval.") var heartbeatInterval = "100ms"
    @Option(help: "The shared ledger file the leader appends to.") var ledger: String
    @Option(help: "Time between two ledger entries while leading, in milliseconds.") var workInterval = 50
    @Option(help: "Resign after this many entries in one leadership (0: never).") var resignAfter = 0
    @Option(help: "Cancel the work this long before the lease deadline (default: a tenth of the election timeout).")
    var cancelAhead: String?
    @Option(help: "Cluster name.") var cluster: String?
    @Option(help: "The URL this node's HTTP endpoint is reached at, told to the other members.") var advertiseHttp: String?
    @Option(help: "Election algorithm (raft).") var algorithm: String?
    @Option(help: "The node's log level.") var logLevel = "warning"
    @Flag(help: "Print the node's leadership event lines too (as `ballot serve --events`).") var events = false

    func run() async throws {
        var settings = NodeSettings()
        try settings.apply(flag: .id, value: id)
        try settings.apply(flag: .listen, value: listen)
        try settings.apply(flag: .dataDirectory, value: dataDir)
        try settings.apply(flag: .electionTimeout, value: electionTimeout)
        try settings.apply(flag: .heartbeatInterval, value: heartbeatInterval)
        if let http { try settings.apply(flag: .http, value: http) }
        if let cluster { try settings.apply(flag: .cluster, value: cluster) }
        if let advertiseHttp { try settings.apply(flag: .advertiseHTTP, value: advertiseHttp) }
        if let algorithm { try settings.apply(flag: .algorithm, value: algorithm) }
        for peer in peers { try settings.apply(flag: .peers, value: peer) }
        if events { try settings.apply(flag: .events, value: "true") }
        let nodeConfiguration = try NodeConfiguration.load(configFile: nil, flags: settings)
        let margin = try cancelAhead.map { try DurationParser.parse($0) }
        var logger = Logger(label: "example.node\(id)")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
        let server = try await NodeServer(configuration: nodeConfiguration, logger: logger)
        // This example runs Ballot's own Raft election (it takes no --backend), so the node is the Raft node.
        guard let node = server.raftNode else { throw ValidationError("the embedded example runs Raft only") }
        let work = LeaderWork(node: node, ledger: FencedLedger(path: ledger), interval: .milliseconds(workInterval),
                              resignAfter: resignAfter, margin: margin)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: server), .init(service: work)], gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}

/// The leader-only work, as a service beside the node: `whileLeader` again and again.
struct LeaderWork: Service {
    let node: BallotNode
    let ledger: FencedLedger
    let interval: Duration
    let resignAfter: Int
    let margin: Duration?

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let (term, entries) = try await node.whileLeader(cancellingAhead: margin) { grant in
                        (grant.term, try await lead(grant))
                    }
                    say("resigned term=\(term) value=\(entries) mono_ns=\(now)")
                } catch let lost as LeadershipLost {
                    say("stopped term=\(lost.term) reason=\(lost.reason.rawValue) mono_ns=\(now)")
                } catch is CancellationError {
                    return
                }
            }
        }
    }

    /// One leadership: an entry every `interval`, each fenced with the grant's token. Returns the
    /// number of entries once `resignAfter` is reached (which resigns); throws when cancelled.
    private func lead(_ grant: LeadershipGrant) async throws -> Int {
        say("leading term=\(grant.term) deadline_ns=\(grant.grantedUntil?.nanoseconds ?? 0)")
        var entries = 0
        while true {
            try Task.checkCancellation()
            // Re-checked right before the write: the lease may have ended since the last one.
            guard grant.isValid else { throw CancellationError() }
            let deadline = grant.leaseDeadline?.nanoseconds ?? 0
            switch try ledger.append(token: grant.fencingToken.rawValue, "node=\(grant.node) entry=\(entries + 1) mono_ns=\(now)") {
            case .written:
                entries += 1
                say("wrote term=\(grant.term) entry=\(entries) mono_ns=\(now) deadline_ns=\(deadline)")
            case .fenced(let highest):
                say("fenced term=\(grant.term) highest=\(highest) mono_ns=\(now)")
                throw CancellationError()
            }
            if resignAfter > 0 && entries >= resignAfter { return entries }
            try await Task.sleep(for: interval)
        }
    }

    private var now: UInt64 { SystemMonotonicClock.now.nanoseconds }
}

/// One line on standard output, in one write(2), so lines never interleave.
func say(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
}
