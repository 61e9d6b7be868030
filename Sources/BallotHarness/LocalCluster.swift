import BallotCertificates
import BallotCore
import BallotClient
import Foundation
import Glibc

/// A cluster of `ballot serve` processes on loopback: started, observed, killed, paused and
/// restarted from one place. Used by `ballot local`, the benchmarks and the end-to-end tests.
public final class LocalCluster: @unchecked Sendable {
    public struct Settings: Sendable {
        public var nodes = 3
        public var peerBasePort = 7001
        public var httpBasePort = 9101
        public var electionTimeout = "1s"
        public var heartbeatInterval = "100ms"
        public var cluster = "local"
        public var algorithm = "raft"
        public var logLevel = "warning"
        /// Extra flags given to every node.
        public var extraArguments: [String] = []
        /// Whether nodes print `event=…` lines (`ballot serve --events`), which the failover
        /// benchmark and the fault suite observe. A lease line per acknowledgement is real work, so
        /// the idle-cost benchmark runs nodes without it, as an operator would.
        public var printEvents = true
        /// The nodes' executable: nil runs `binary serve`; a `ballotd` path runs that directly
        /// (the same node and flags, in a binary without the rest of the CLI).
        public var nodeBinary: String?
        /// How nodes authenticate each other; credentials are made in `<data-dir>/credentials`.
        public var peerSecurity = PeerSecurity.insecure
        /// Credentials made elsewhere (the layout of `ballot certs`), instead of `<data-dir>/credentials`.
        public var credentialsDirectory: String?
        /// Flags given to one node only (issue 15: priorities), after the common ones.
        public var perNodeArguments: [NodeID: [String]] = [:]
        /// Whether each node advertises its HTTP URL (`--advertise-http http://127.0.0.1:PORT`).
        public var advertiseHTTP = false
        /// What elects the leader: `raft` (the nodes are peers) or `etcd`/`zookeeper`, in which case
        /// the nodes have no peers and `backendArguments` (endpoints, election, TTL…) replace the
        /// peer and Raft timing flags.
        public var backend = "raft"
        public var backendArguments: [String] = []
        /// How the harness reaches the nodes' HTTP endpoints when they serve HTTPS (the nodes' TLS
        /// flags go in `extraArguments`); nil for plaintext.
        public var httpTLS: HTTPClientTLS?

        public init() {}
    }

    public let settings: Settings
    public let dataDirectory: String
    public private(set) var nodes: [NodeProcess] = []
    /// The CA, node certificates and secret of the cluster, when it authenticates its peers.
    public let credentials: ClusterCredentials?
    private let eventLock = NSLock()
    private var recorded: [LeadershipEventLine] = []
    private var others: [(node: NodeID, line: String)] = []
    private var otherEvents: [(node: NodeID, line: String)] = []
    private let onEvent: @Sendable (LeadershipEventLine) -> Void
    private let onLine: @Sendable (NodeID, String) -> Void

    /// Prepares (but does not start) the processes. `binary` is the `ballot` executable, whose
    /// `serve` runs each node unless `settings.nodeBinary` names another.
    /// `onLine` gets every line the nodes print, `event=lease` lines included (benchmarks time them).
    public init(settings: Settings, binary: String, dataDirectory: String,
                onEvent: @escaping @Sendable (LeadershipEventLine) -> Void = { _ in },
                onLine: @escaping @Sendable (NodeID, String) -> Void = { _, _ in }) {
        self.settings = settings
        self.dataDirectory = dataDirectory
        self.onEvent = onEvent
        let credentials = settings.peerSecurity.credentials(
            in: settings.credentialsDirectory ?? "\(dataDirectory)/credentials", cluster: settings.cluster)
        self.credentials = credentials
        self.onLine = onLine
        let ids = (1...settings.nodes).map { NodeID(UInt64($0))! }
        for id in ids {
            let index = Int(id.rawValue) - 1
            var arguments = [
                "--id", "\(id)", "--http", "127.0.0.1:\(settings.httpBasePort + index)",
                "--data-dir", "\(dataDirectory)/node\(id)", "--cluster", settings.cluster, "--log-level", settings.logLevel,
            ]
            if settings.backend == "raft" {
                arguments += [
                    "--listen", "127.0.0.1:\(settings.peerBasePort + index)", "--election-timeout", settings.electionTimeout,
                    "--heartbeat-interval", settings.heartbeatInterval,
                ]
                // Only `ballot serve` runs Bully and Ring; ballotd has no --algorithm at all.
                if settings.algorithm != "raft" { arguments += ["--algorithm", settings.algorithm] }
                for peer in ids where peer != id {
                    arguments += ["--peer", "\(peer)=127.0.0.1:\(settings.peerBasePort + Int(peer.rawValue) - 1)"]
                }
                if settings.advertiseHTTP {
                    arguments += ["--advertise-http", "http://127.0.0.1:\(settings.httpBasePort + index)"]
                }
            } else {
                arguments += ["--backend", settings.backend] + settings.backendArguments
            }
            if settings.backend == "raft" {
                arguments += credentials?.nodeArguments(
                    for: id, tls: settings.peerSecurity.usesTLS, secret: settings.peerSecurity.usesSecret) ?? []
            }
            if settings.printEvents { arguments.append("--events") }
            arguments += settings.extraArguments
            arguments += settings.perNodeArguments[id] ?? []
            let node = NodeProcess(
                id: id, binary: settings.nodeBinary ?? binary,
                arguments: settings.nodeBinary == nil ? ["serve"] + arguments : arguments, peerPort: settings.peerBasePort + index,
                httpPort: settings.httpBasePort + index, dataDirectory: "\(dataDirectory)/node\(id)"
            ) { [weak self] node, line in self?.received(line, from: node) }
            nodes.append(node)
        }
    }

    public func node(_ id: NodeID) -> NodeProcess { nodes[Int(id.rawValue) - 1] }

    public func startAll() throws {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        try PeerSecurity.prepare(credentials, nodes: nodes.map(\.id), security: settings.peerSecurity)
        for node in nodes { try node.start() }
    }

    /// Starts every node, runs `body`, and stops every node afterwards — also when `body` (or a
    /// start) throws, so a failed measurement never leaves processes behind.
    public func whileRunning<T>(_ body: () async throws -> T) async throws -> T {
        do {
            try startAll()
            let result = try await body()
            await stopAll()
            return result
        } catch {
            await stopAll()
            throw error
        }
    }

    public func stopAll() async {
        await withTaskGroup(of: Void.self) { group in
            for node in nodes { group.addTask { await node.stop() } }
        }
    }

    /// Every leadership event line printed so far, in the order they arrived.
    public var events: [LeadershipEventLine] { eventLock.withLock { recorded } }

    /// The lines the nodes printed on standard output that are not `event=` lines (an embedding
    /// program's own lines).
    public var otherLines: [(node: NodeID, line: String)] { eventLock.withLock { others } }

    /// The `event=` lines that are not about leadership: lease moves, releases, peer connections.
    public var otherEventLines: [(node: NodeID, line: String)] { eventLock.withLock { otherEvents } }

    private func received(_ line: String, from node: NodeID) {
        onLine(node, line)
        guard let event = LeadershipEventLine(parsing: line) else {
            eventLock.withLock {
                if line.hasPrefix("event=") { otherEvents.append((node, line)) } else { others.append((node, line)) }
            }
            return
        }
        eventLock.withLock { recorded.append(event) }
        onEvent(event)
    }

    // MARK: Observing through HTTP

    /// `GET /leader` of one node, or nil if it does not answer.
    public func leaderView(of id: NodeID, timeout: Duration = .milliseconds(500)) async -> LeaderView? {
        guard node(id).isRunning,
              let response = try? await HTTPClient.request(.GET, httpTarget(of: id), path: "/leader", timeout: timeout),
              response.status == 200
        else { return nil }
        return try? JSONDecoder().decode(LeaderView.self, from: Data(response.body))
    }

    /// Where node `id`'s HTTP endpoint is, with the cluster's TLS if it has any.
    public func httpTarget(of id: NodeID) throws -> HTTPTarget {
        HTTPTarget(address: try SocketAddressSpec(validatingHost: "127.0.0.1", port: node(id).httpPort), tls: settings.httpTLS)
    }

    /// The node that reports itself leader (lease-backed), if exactly one running node does.
    public func currentLeader(among ids: [NodeID]? = nil) async -> LeaderView? {
        var leaders: [LeaderView] = []
        for id in ids ?? nodes.map(\.id) {
            if let view = await leaderView(of: id), view.isLeader { leaders.append(view) }
        }
        return leaders.count == 1 ? leaders[0] : nil
    }

    /// Polls until a leader (other than `excluding`) is reported, or the timeout passes.
    public func waitForLeader(excluding: NodeID? = nil, newerThan term: UInt64 = 0, timeout: Duration,
                              poll: Duration = .milliseconds(20)) async -> LeaderView? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let candidates = nodes.map(\.id).filter { $0 != excluding }
            if let leader = await currentLeader(among: candidates), leader.term > term, leader.self_ != excluding?.rawValue {
                return leader
            }
            try? await Task.sleep(for: poll)
        }
        return nil
    }
}
