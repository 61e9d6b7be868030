import BallotBackends
import BallotBuildInfo
import BallotClient
import BallotCore
import BallotRuntime
import BallotWire
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import UnixSignals

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
    /// The Raft node, for programs that embed one (`whileLeader`, `resign`, candidacy); nil when
    /// an etcd or ZooKeeper backend elects.
    public var raftNode: BallotNode? { node as? BallotNode }
    let producer: Producer
    let http: HTTPEndpoint?
    /// Issue 15: the view's changes for `/events` and blocking `/leader` queries (any producer's).
    let events: LeadershipEventHub
    /// A Raft node's own event loop, for its timer and peer connections: thousands of HTTP clients
    /// (`/events` subscribers) are served on the shared group's loops and never delay an election.
    let nodeLoop: MultiThreadedEventLoopGroup?
    let logger: Logger
    let printEvents: Bool

    /// What keeps the node's leadership view. A Raft node also has its peer credentials, re-read
    /// on SIGHUP.
    enum Producer: Sendable {
        case raft(BallotNode, PeerTransport, PeerTrustStore, listen: SocketAddressSpec)
        case backend(any ElectionBackend)
    }

    /// Opens the data directory, reads the peer credentials (Raft) and builds every part; nothing
    /// is bound or sent yet. `version` and `revision` label `ballot_build_info` (this build's
    /// ``BuildInfo`` by default).
    public init(configuration: NodeConfiguration, logger: Logger, version: String = BuildInfo.version,
                revision: String = BuildInfo.revision) async throws {
        self.configuration = configuration
        self.logger = logger
        let id = configuration.id
        let kind = configuration.backend.kind
        // A node elected through a coordination service is a cluster of one as far as Ballot's own
        // metrics go: no peers; its `algorithm` label is the backend's name.
        let recorder = MetricsRecorder(
            view: LeadershipView(node: id), membership: kind == .raft ? configuration.membership : Membership([id]),
            algorithm: kind == .raft ? configuration.algorithm.rawValue : kind.rawValue, backend: kind.rawValue,
            version: version, revision: revision, tickDuration: configuration.tickInterval)
        let store = try HardStateStore(configuration: configuration, observer: recorder)
        let readiness: Duration
        switch configuration.backend {
        case .raft:
            guard let listen = configuration.listenAddress else { throw ConfigurationError.missingSetting(.listen) }
            // Only Raft has a candidacy (issue 15); the file is kept beside the hard state.
            let candidacyStore = configuration.algorithm.supportsCandidacy ? try CandidacyStore(beside: store) : nil
            let candidacy = Candidacy(eligible: candidacyStore?.recoveredEligible ?? true, priority: configuration.priority)
            var seed = SystemRandomNumberGenerator()
            let core = configuration.algorithm.makeCore(
                id: id, membership: configuration.membership, raft: configuration.raftConfiguration,
                hardState: store.recoveredState, candidacy: candidacy, random: SplitMix64(seed: seed.next()))
            let peerIDs = configuration.peers.map(\.id)
            let outbox = PeerOutbox(peers: peerIDs, recorder: recorder)
            let members = MemberDirectory(local: id, localInfo: try MemberInfo(advertisedHTTP: configuration.advertisedHTTP))
            let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            nodeLoop = loop
            let node = BallotNode(core: core, tick: configuration.tickInterval, electionTimeout: configuration.electionTimeout,
                                  store: store, outbox: outbox, recorder: recorder, logger: logger, members: members,
                                  candidacyStore: candidacyStore, resignHoldOff: configuration.resignHoldOff,
                                  leaseRelease: configuration.leaseRelease, printEvents: configuration.printEvents,
                                  eventLoop: loop.next())
            let policy = HandshakePolicy(localNode: id, clusterName: configuration.cluster,
                                         membership: configuration.membership, algorithm: configuration.algorithm)
            let trust = try await PeerTrustStore(
                configuration: configuration.peerTrust,
                identity: PeerIdentity(clusterName: configuration.cluster, node: id),
                recorder: recorder, logger: logger)
            let transport = PeerTransport(node: node, peers: configuration.peers, policy: policy,
                                          limits: try WireLimits(maxFrameLength: configuration.maxFrameSize), trust: trust,
                                          printEvents: configuration.printEvents, logger: logger)
            self.node = node
            producer = .raft(node, transport, trust, listen: listen)
            readiness = configuration.electionTimeout
            logger.info("recovered hard state", metadata: [
                "event": "state_recovered", "term": "\(store.recoveredState.term)",
                "voted_for": "\(store.recoveredState.votedFor.map { "\($0)" } ?? "-")",
                "eligible": "\(candidacy.eligible)", "priority": "\(candidacy.priority)",
            ])
        case .etcd, .zookeeper:
            let backend = try Self.makeBackend(configuration, view: recorder.view, recorder: recorder, store: store,
                                               logger: logger)
            node = BackendNode(backend: backend, recorder: recorder)
            nodeLoop = nil
            producer = .backend(backend)
            readiness = backend.validity
            logger.info("recovered the highest fencing token", metadata: [
                "event": "state_recovered", "term": "\(store.recoveredState.term)",
            ])
        }
        events = LeadershipEventHub(view: node.view)
        if configuration.httpAddress != nil || configuration.http.adminAddress != nil {
            let settings = configuration.http
            let access = HTTPAccessPolicy(
                token: try settings.tokenFile.map { path throws(HTTPSetupError) in try BearerToken.load(path: path) },
                authorizeReads: settings.authorizeReads)
            http = try HTTPEndpoint(
                router: HTTPRoutes(node: node, electionTimeout: readiness, hub: events).router, access: access,
                limits: settings.limits, tls: settings.tls, hasAdminListener: settings.adminAddress != nil,
                registry: recorder.registry, logger: logger)
        } else {
            http = nil
        }
        self.printEvents = configuration.printEvents
    }

    /// The etcd or ZooKeeper backend of `configuration`, feeding `view` and `recorder`, keeping its
    /// fencing tokens in `store`.
    private static func makeBackend(
        _ configuration: NodeConfiguration, view: LeadershipView, recorder: MetricsRecorder, store: HardStateStore,
        logger: Logger
    ) throws -> any ElectionBackend {
        let tokens = FencingTokenFile(store: store)
        let recovered = store.recoveredState.term
        switch configuration.backend {
        case .etcd(let settings):
            return try EtcdBackend(configuration: settings, node: configuration.id, view: view, observer: recorder,
                                   tokens: tokens, recoveredToken: recovered, logger: logger)
        case .zookeeper(let settings):
            return ZooKeeperBackend(configuration: settings, node: configuration.id, view: view, observer: recorder,
                                    tokens: tokens, recoveredToken: recovered, logger: logger)
        case .raft:
            preconditionFailure("the Raft node is not a backend")
        }
    }

    /// Binds the listeners, then runs until graceful shutdown; a Raft node's own loop stops last.
    public func run() async throws {
        do {
            try await serve()
        } catch {
            try? await nodeLoop?.shutdownGracefully()
            throw error
        }
        try? await nodeLoop?.shutdownGracefully()
    }

    private func serve() async throws {
        let peerListener: (any Channel)?
        if case .raft(_, let transport, _, let listen) = producer {
            peerListener = try await transport.bind(host: listen.hostString, port: listen.port)
        } else {
            peerListener = nil
        }
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
        logger.notice("node started", metadata: startedMetadata)
        if printEvents { EventLine.follow(node.view) }
        logLeadershipChanges()
        let producer = self.producer
        try await withThrowingTaskGroup(of: Void.self) { group in
            switch producer {
            case .raft(let node, let transport, _, _):
                if let peerListener { group.addTask { await transport.run(listener: peerListener) } }
                group.addTask { try await node.runClock() }
            case .backend(let backend):
                group.addTask { try await backend.run() }
            }
            if let http {
                for listener in httpListeners { group.addTask { try await http.run(listener) } }
            }
            group.addTask { await self.reloadOnHangUp() }
            // Runs until SIGTERM/SIGINT (or a failure above), then hands leadership over.
            do {
                try await gracefulShutdown()
            } catch {
                group.cancelAll()
                throw error
            }
            logger.notice("shutting down", metadata: ["event": "shutting_down"])
            switch producer {
            case .raft(let node, _, _, _): await node.shutDown()
            case .backend(let backend): await backend.shutDown()
            }
            events.close()
            group.cancelAll()
        }
    }

    /// The `node started` record: the build, the HTTP surface, and what elects with its settings
    /// (never the etcd credentials, only whether there are any).
    var startedMetadata: Logger.Metadata {
        var started: Logger.Metadata = [
            "event": "started", "version": "\(BuildInfo.version)", "revision": "\(BuildInfo.revision)",
            "backend": "\(configuration.backend.kind)", "cluster": "\(configuration.cluster)",
            "http": "\(configuration.httpAddress.map { "\($0)" } ?? "off")",
            "admin_http": "\(configuration.http.adminAddress.map { "\($0)" } ?? "off")",
            "http_tls": "\(configuration.http.tls == nil ? "off" : configuration.http.tls?.clientCA == nil ? "on" : "on, client certificates verified")",
            "http_token": "\(configuration.http.tokenFile == nil ? "off" : "on")",
        ]
        switch configuration.backend {
        case .raft:
            started["algorithm"] = "\(configuration.algorithm)"
            started["listen"] = "\(configuration.listenAddress.map { "\($0)" } ?? "-")"
            started["election_timeout"] = "\(DurationParser.format(configuration.electionTimeout))"
            started["heartbeat_interval"] = "\(DurationParser.format(configuration.heartbeatInterval))"
            started["peer_auth"] = "\(peerAuthDescription)"
        case .etcd(let etcd):
            started["election"] = "\(etcd.election)"
            started["endpoints"] = "\(etcd.endpoints.map(\.description).joined(separator: ","))"
            started["lease_ttl"] = "\(DurationParser.format(etcd.leaseTTL))"
            started["credentials"] = "\(etcd.credentialsFile == nil ? "none" : "from file")"
        case .zookeeper(let zookeeper):
            started["election"] = "\(zookeeper.election)"
            started["servers"] = "\(zookeeper.servers.map(\.description).joined(separator: ","))"
            started["session_timeout"] = "\(DurationParser.format(zookeeper.sessionTimeout))"
            started["follower_lag"] = "\(zookeeper.followerLag == .zero ? "0s" : DurationParser.format(zookeeper.followerLag))"
        }
        return started
    }
}

extension NodeServer {
    /// The peer credentials of a Raft node; nil for a node elected through a backend.
    public var trust: PeerTrustStore? {
        if case .raft(_, _, let trust, _) = producer { return trust }
        return nil
    }

    /// Re-reads the peer credentials on every SIGHUP, until the task is cancelled. A backend node
    /// has none, and says so rather than letting SIGHUP's default action end it.
    func reloadOnHangUp() async {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals {
            guard let trust else {
                logger.notice("SIGHUP: nothing to re-read (no peers with the \(configuration.backend.kind) backend)",
                              metadata: ["event": "reload_requested"])
                continue
            }
            logger.notice("SIGHUP: re-reading peer credentials", metadata: ["event": "reload_requested"])
            await trust.reload()
        }
    }

    /// `tls`, `cluster-secret`, `tls+cluster-secret` or `none (insecure)`, for the start-up line.
    var peerAuthDescription: String {
        guard let material = trust?.current else { return "none (no peers)" }
        let methods = [material.tls != nil ? "tls" : nil, material.secrets != nil ? "cluster-secret" : nil].compactMap { $0 }
        return methods.isEmpty ? "none (insecure)" : methods.joined(separator: "+")
    }

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

/// The highest fencing token a backend reported, kept in the node's state file as its term, so
/// that `ballot_term` and `/leader`'s term never go back across restarts.
final class FencingTokenFile: FencingTokenStore {
    let store: HardStateStore

    init(store: HardStateStore) { self.store = store }

    func save(highestToken token: Term) throws {
        try store.save(HardState(term: token))
    }
}
