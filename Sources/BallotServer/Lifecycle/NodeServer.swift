import BallotBuildInfo
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
    /// `version` and `revision` label `ballot_build_info` (this build's ``BuildInfo`` by default).
    public init(configuration: NodeConfiguration, logger: Logger, version: String = BuildInfo.version,
                revision: String = BuildInfo.revision) throws {
        self.configuration = configuration
        self.logger = logger
        let recorder = MetricsRecorder(
            view: LeadershipView(node: configuration.id), membership: configuration.membership,
            algorithm: configuration.algorithm.rawValue, version: version, revision: revision,
            tickDuration: configuration.tickInterval)
        let store = try HardStateStore(configuration: configuration, observer: recorder)
        // Only Raft has a candidacy (issue 15); the file is kept beside the hard state.
        let candidacyStore = configuration.algorithm.supportsCandidacy ? try CandidacyStore(beside: store) : nil
        let candidacy = Candidacy(eligible: candidacyStore?.recoveredEligible ?? true, priority: configuration.priority)
        var seed = SystemRandomNumberGenerator()
        let core = configuration.algorithm.makeCore(
            id: configuration.id, membership: configuration.membership, raft: configuration.raftConfiguration,
            hardState: store.recoveredState, candidacy: candidacy, random: SplitMix64(seed: seed.next()))
        let peerIDs = configuration.peers.map(\.id)
        let outbox = PeerOutbox(peers: peerIDs, recorder: recorder)
        let members = MemberDirectory(
            local: configuration.id, localInfo: try MemberInfo(advertisedHTTP: configuration.advertisedHTTP))
        nodeLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        node = BallotNode(core: core, tick: configuration.tickInterval, electionTimeout: configuration.electionTimeout,
                          store: store, outbox: outbox, recorder: recorder, logger: logger, members: members,
                          candidacyStore: candidacyStore, resignHoldOff: configuration.resignHoldOff,
                          eventLoop: nodeLoop.next())
        let policy = HandshakePolicy(localNode: configuration.id, clusterName: configuration.cluster,
                                     membership: configuration.membership, algorithm: configuration.algorithm)
        transport = PeerTransport(node: node, peers: configuration.peers, policy: policy,
                                  limits: try WireLimits(maxFrameLength: configuration.maxFrameSize), logger: logger)
        events = LeadershipEventHub(view: node.view)
        if configuration.httpAddress != nil || configuration.http.adminAddress != nil {
            let settings = configuration.http
            let access = HTTPAccessPolicy(
                token: try settings.tokenFile.map { path throws(HTTPSetupError) in try BearerToken.load(path: path) },
                authorizeReads: settings.authorizeReads)
            http = try HTTPEndpoint(
                router: HTTPRoutes(node: node, electionTimeout: configuration.electionTimeout, hub: events).router,
                access: access, limits: settings.limits, tls: settings.tls, hasAdminListener: settings.adminAddress != nil,
                registry: recorder.registry, logger: logger)
        } else {
            http = nil
        }
        self.printEvents = configuration.printEvents
        logger.info("recovered hard state", metadata: [
            "event": "state_recovered", "term": "\(store.recoveredState.term)",
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
        var httpListeners: [HTTPEndpoint.Listener] = []
        if let http {
            OpenFileLimit.raise(toServe: configuration.http.limits.maxConnections * 2, logger: logger)
            if let address = configuration.httpAddress {
                httpListeners.append(try await http.bind(host: address.hostString, port: address.port, role: .main))
            }
            if let address = configuration.http.adminAddress {
                httpListeners.append(try await http.bind(host: address.hostString, port: address.port, role: .admin))
            }
        }
        logger.notice("node started", metadata: [
            "event": "started", "version": "\(BuildInfo.version)", "revision": "\(BuildInfo.revision)",
            "algorithm": "\(configuration.algorithm)", "cluster": "\(configuration.cluster)", "listen": "\(listen)",
            "http": "\(configuration.httpAddress.map { "\($0)" } ?? "off")",
            "admin_http": "\(configuration.http.adminAddress.map { "\($0)" } ?? "off")",
            "http_tls": "\(configuration.http.tls == nil ? "off" : configuration.http.tls?.clientCA == nil ? "on" : "on, client certificates verified")",
            "http_token": "\(configuration.http.tokenFile == nil ? "off" : "on")",
            "election_timeout": "\(DurationParser.format(configuration.electionTimeout))",
            "heartbeat_interval": "\(DurationParser.format(configuration.heartbeatInterval))",
        ])
        if printEvents { EventLine.follow(node.view) }
        logLeadershipChanges()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.transport.run(listener: listener) }
            if let http {
                for listener in httpListeners { group.addTask { try await http.run(listener) } }
            }
            group.addTask { try await self.node.runClock() }
            // Runs until SIGTERM/SIGINT (or a failure above), then hands leadership over.
            do {
                try await gracefulShutdown()
            } catch {
                group.cancelAll()
                throw error
            }
            logger.notice("shutting down", metadata: ["event": "shutting_down"])
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
                    "event": "leader_elected", "leader": "\(leader)", "term": "\(term)",
                    "leaderless_ms": "\((leaderless ?? .zero).milliseconds)",
                ])
            case .lost(let previous, let term, _, _):
                logger.notice("leader lost", metadata: ["event": "leader_lost", "previous": "\(previous)", "term": "\(term)"])
            case .lease:
                break
            }
        }
    }
}
