import BallotCore
import BallotRuntime
import BallotWire
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A complete Ballot node built from its configuration: durable store, election core, peer
/// transport, HTTP endpoint and metrics, run as a swift-service-lifecycle service.
///
/// Start-up fails early and clearly (corrupt state, locked data directory, port in use) before any
/// message is sent. On SIGTERM/SIGINT a leader hands leadership over before the process exits.
public final class NodeServer: Service, Sendable {
    public let configuration: NodeConfiguration
    public let node: BallotNode
    let transport: PeerTransport
    let http: HTTPEndpoint?
    /// Issue 15: the view's changes for `/events` and blocking `/leader` queries.
    let events: LeadershipEventHub
    /// The node's own event loop, for its timer and peer connections: thousands of HTTP clients
    /// (`/events` subscribers) are served on the shared group's loops and never delay an election.
    let nodeLoop: MultiThreadedEventLoopGroup
    let logger: Logger
    let printEvents: Bool

    /// Opens the data directory and builds every part; nothing is bound or sent yet.
    public init(configuration: NodeConfiguration, logger: Logger, version: String = BallotVersion.current,
                printEvents: Bool = false) throws {
        self.configuration = configuration
        self.logger = logger
        let store = try HardStateStore(configuration: configuration)
        // Only Raft has a candidacy (issue 15); the file is kept beside the hard state.
        let candidacyStore = configuration.algorithm.supportsCandidacy ? try CandidacyStore(beside: store) : nil
        let candidacy = Candidacy(eligible: candidacyStore?.recoveredEligible ?? true, priority: configuration.priority)
        var seed = SystemRandomNumberGenerator()
        let core = configuration.algorithm.makeCore(
            id: configuration.id, membership: configuration.membership, raft: configuration.raftConfiguration,
            hardState: store.recoveredState, candidacy: candidacy, random: SplitMix64(seed: seed.next()))
        let peerIDs = configuration.peers.map(\.id)
        let recorder = MetricsRecorder(
            view: LeadershipView(node: configuration.id), membership: configuration.membership,
            algorithm: configuration.algorithm.rawValue, version: version, tickDuration: configuration.tickInterval)
        let outbox = PeerOutbox(peers: peerIDs, recorder: recorder)
        let members = MemberDirectory(
            local: configuration.id, localInfo: try MemberInfo(advertisedHTTP: configuration.advertisedHTTP))
        nodeLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        node = BallotNode(core: core, tick: configuration.tickInterval, electionTimeout: configuration.electionTimeout,
                          store: store, outbox: outbox, recorder: recorder, logger: logger, members: members,
                          candidacyStore: candidacyStore, eventLoop: nodeLoop.next())
        let policy = HandshakePolicy(localNode: configuration.id, clusterName: configuration.cluster,
                                     membership: configuration.membership, algorithm: configuration.algorithm)
        transport = PeerTransport(node: node, peers: configuration.peers, policy: policy,
                                  limits: try WireLimits(maxFrameLength: configuration.maxFrameSize), logger: logger)
        events = LeadershipEventHub(view: node.view)
        http = HTTPEndpoint(routes: HTTPRoutes(node: node, electionTimeout: configuration.electionTimeout, hub: events),
                            logger: logger)
        self.printEvents = printEvents
        logger.info("recovered hard state", metadata: [
            "term": "\(store.recoveredState.term)",
            "voted_for": "\(store.recoveredState.votedFor.map { "\($0)" } ?? "-")",
            "eligible": "\(candidacy.eligible)", "priority": "\(candidacy.priority)",
        ])
    }

    /// Binds both listeners, then runs until graceful shutdown; the node's own loop stops last.
    public func run() async throws {
        do {
            try await serve()
        } catch {
            try? await nodeLoop.shutdownGracefully()
            throw error
        }
        try? await nodeLoop.shutdownGracefully()
    }

    private func serve() async throws {
        let listen = configuration.listenAddress
        let listener = try await transport.bind(host: listen.hostString, port: listen.port)
        let httpListener: HTTPEndpoint.Listener?
        if let http, let address = configuration.httpAddress {
            httpListener = try await http.bind(host: address.hostString, port: address.port)
        } else {
            httpListener = nil
        }
        logger.notice("node started", metadata: [
            "id": "\(configuration.id)", "cluster": "\(configuration.cluster)", "listen": "\(listen)",
            "http": "\(configuration.httpAddress.map { "\($0)" } ?? "off")",
            "election_timeout": "\(configuration.electionTimeout)", "heartbeat": "\(configuration.heartbeatInterval)",
        ])
        if printEvents { EventLine.follow(node.view) }
        logLeadershipChanges()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.transport.run(listener: listener) }
            if let http, let httpListener {
                group.addTask { try await http.run(listener: httpListener) }
            }
            group.addTask { try await self.node.runClock() }
            // Runs until SIGTERM/SIGINT (or a failure above), then hands leadership over.
            do {
                try await gracefulShutdown()
            } catch {
                group.cancelAll()
                throw error
            }
            logger.notice("shutting down")
            await node.shutDown()
            events.close()
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

/// Version reported by `ballot_build_info` and `ballot --version`.
public enum BallotVersion {
    public static let current = "0.1.0"
}
