import BallotBackends
import BallotClient
import BallotCore
import BallotRuntime
import BallotWire
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A complete Ballot node built from its configuration: durable store, a producer of leadership —
/// the Raft node with its peer transport, or an election backend on etcd or ZooKeeper — and the
/// HTTP endpoint and metrics that read its view, run as a swift-service-lifecycle service.
///
/// Start-up fails early and clearly (corrupt state, locked data directory, port in use, an
/// unreadable credentials file) before anything is sent. On SIGTERM/SIGINT a leader hands
/// leadership over (Raft: to its most up-to-date follower; a backend: to the next candidate in
/// line, by resigning) before the process exits.
public final class NodeServer: Service, Sendable {
    public let configuration: NodeConfiguration
    /// The node the HTTP routes serve.
    public let node: any ServedNode
    let producer: Producer
    let http: HTTPEndpoint?
    let logger: Logger
    let printEvents: Bool

    /// What keeps the node's leadership view.
    enum Producer: Sendable {
        case raft(BallotNode, PeerTransport, listen: SocketAddressSpec)
        case backend(any ElectionBackend)
    }

    /// Opens the data directory and builds every part; nothing is bound or sent yet.
    public init(configuration: NodeConfiguration, logger: Logger, version: String = BallotVersion.current,
                printEvents: Bool = false) throws {
        self.configuration = configuration
        self.logger = logger
        let store = try HardStateStore(configuration: configuration)
        let readiness: Duration
        switch configuration.backend {
        case .raft:
            guard let listen = configuration.listenAddress else { throw ConfigurationError.missingSetting(.listen) }
            var seed = SystemRandomNumberGenerator()
            let core = configuration.algorithm.makeCore(
                id: configuration.id, membership: configuration.membership, raft: configuration.raftConfiguration,
                hardState: store.recoveredState, random: SplitMix64(seed: seed.next()))
            let peerIDs = configuration.peers.map(\.id)
            let recorder = MetricsRecorder(
                view: LeadershipView(node: configuration.id), membership: configuration.membership,
                algorithm: configuration.algorithm.rawValue, version: version, tickDuration: configuration.tickInterval)
            let outbox = PeerOutbox(peers: peerIDs, recorder: recorder)
            let node = BallotNode(core: core, tick: configuration.tickInterval, electionTimeout: configuration.electionTimeout,
                                  store: store, outbox: outbox, recorder: recorder, logger: logger)
            let policy = HandshakePolicy(localNode: configuration.id, clusterName: configuration.cluster,
                                         membership: configuration.membership, algorithm: configuration.algorithm)
            let transport = PeerTransport(node: node, peers: configuration.peers, policy: policy,
                                          limits: try WireLimits(maxFrameLength: configuration.maxFrameSize), logger: logger)
            self.node = node
            producer = .raft(node, transport, listen: listen)
            readiness = configuration.electionTimeout
            logger.info("recovered hard state", metadata: [
                "term": "\(store.recoveredState.term)",
                "voted_for": "\(store.recoveredState.votedFor.map { "\($0)" } ?? "-")",
            ])
        case .etcd, .zookeeper:
            let backend = try Self.makeBackend(configuration, store: store, version: version, logger: logger)
            node = BackendNode(backend: backend.backend, recorder: backend.recorder)
            producer = .backend(backend.backend)
            readiness = backend.backend.validity
            logger.info("recovered the highest fencing token", metadata: ["term": "\(store.recoveredState.term)"])
        }
        http = HTTPEndpoint(routes: HTTPRoutes(node: node, electionTimeout: readiness), logger: logger)
        self.printEvents = printEvents
    }

    /// An etcd or ZooKeeper backend and the recorder that follows its view. A node elected through a
    /// coordination service is a cluster of one as far as Ballot's own metrics go: no peers.
    private static func makeBackend(_ configuration: NodeConfiguration, store: HardStateStore, version: String,
                                    logger: Logger) throws -> (backend: any ElectionBackend, recorder: MetricsRecorder) {
        let id = configuration.id
        let view = LeadershipView(node: id)
        let kind = configuration.backend.kind.rawValue
        let recorder = MetricsRecorder(view: view, membership: Membership([id]), algorithm: kind, backend: kind,
                                       version: version, tickDuration: configuration.tickInterval)
        let tokens = FencingTokenFile(store: store)
        let recovered = store.recoveredState.term
        switch configuration.backend {
        case .etcd(let settings):
            let backend = try EtcdBackend(configuration: settings, node: id, view: view, observer: recorder, tokens: tokens,
                                          recoveredToken: recovered, logger: logger)
            return (backend, recorder)
        case .zookeeper(let settings):
            let backend = ZooKeeperBackend(configuration: settings, node: id, view: view, observer: recorder, tokens: tokens,
                                           recoveredToken: recovered, logger: logger)
            return (backend, recorder)
        case .raft:
            preconditionFailure("the Raft node is not a backend")
        }
    }

    /// Binds the listeners, then runs until graceful shutdown.
    public func run() async throws {
        let peerListener: (any Channel)?
        if case .raft(_, let transport, let listen) = producer {
            peerListener = try await transport.bind(host: listen.hostString, port: listen.port)
        } else {
            peerListener = nil
        }
        let httpListener: HTTPEndpoint.Listener?
        if let http, let address = configuration.httpAddress {
            httpListener = try await http.bind(host: address.hostString, port: address.port)
        } else {
            httpListener = nil
        }
        var started: Logger.Metadata = [
            "id": "\(configuration.id)", "cluster": "\(configuration.cluster)", "backend": "\(configuration.backend.kind)",
            "http": "\(configuration.httpAddress.map { "\($0)" } ?? "off")",
        ]
        switch configuration.backend {
        case .raft:
            started["listen"] = "\(configuration.listenAddress.map { "\($0)" } ?? "-")"
            started["election_timeout"] = "\(configuration.electionTimeout)"
            started["heartbeat"] = "\(configuration.heartbeatInterval)"
        case .etcd(let etcd):
            started["election"] = "\(etcd.election)"
            started["endpoints"] = "\(etcd.endpoints.map(\.description).joined(separator: ","))"
            started["lease_ttl"] = "\(etcd.leaseTTL)"
            started["credentials"] = "\(etcd.credentialsFile == nil ? "none" : "from file")"
        case .zookeeper(let zookeeper):
            started["election"] = "\(zookeeper.election)"
            started["servers"] = "\(zookeeper.servers.map(\.description).joined(separator: ","))"
            started["session_timeout"] = "\(zookeeper.sessionTimeout)"
        }
        logger.notice("node started", metadata: started)
        if printEvents { EventLine.follow(node.view) }
        logLeadershipChanges()
        let producer = self.producer
        try await withThrowingTaskGroup(of: Void.self) { group in
            switch producer {
            case .raft(let node, let transport, _):
                if let peerListener { group.addTask { await transport.run(listener: peerListener) } }
                group.addTask { try await node.runClock() }
            case .backend(let backend):
                group.addTask { try await backend.run() }
            }
            if let http, let httpListener {
                group.addTask { try await http.run(listener: httpListener) }
            }
            // Runs until SIGTERM/SIGINT (or a failure above), then hands leadership over.
            do {
                try await gracefulShutdown()
            } catch {
                group.cancelAll()
                throw error
            }
            logger.notice("shutting down")
            switch producer {
            case .raft(let node, _, _): await node.shutDown()
            case .backend(let backend): await backend.shutDown()
            }
            group.cancelAll()
        }
    }
}

extension NodeServer {
    /// Logs each leader found or lost, with how long the node was without one.
    func logLeadershipChanges() {
        let logger = self.logger
        node.view.addListener { event in
            switch event {
            case .elected(let leader, let term, _, let leaderless, _, _, _):
                logger.notice("leader elected", metadata: [
                    "leader": "\(leader)", "term": "\(term)", "leaderless_ms": "\((leaderless ?? .zero).milliseconds)",
                ])
            case .lost(let previous, let term, _, _):
                logger.notice("leader lost", metadata: ["previous": "\(previous)", "term": "\(term)"])
            case .lease:
                break
            }
        }
    }
}

/// The highest fencing token a backend reported, kept in the node's state file as its term, so
/// that `ballot_term` and `/leader`'s term never go back across restarts.
final class FencingTokenFile: FencingTokenStore {
    let store: HardStateStore

    init(store: HardStateStore) { self.store = store }

    func save(highestToken token: Term) throws {
        try store.save(HardState(term: token))
    }
}

/// Version reported by `ballot_build_info` and `ballot --version`.
public enum BallotVersion {
    public static let current = "0.1.0"
}
