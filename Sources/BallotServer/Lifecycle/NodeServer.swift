import BallotCore
import BallotRuntime
import BallotWire
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import UnixSignals

/// A complete Ballot node built from its configuration: durable store, election core, peer
/// transport, HTTP endpoint and metrics, run as a swift-service-lifecycle service.
///
/// Start-up fails early and clearly (corrupt state, locked data directory, port in use) before any
/// message is sent. On SIGTERM/SIGINT a leader hands leadership over before the process exits.
public final class NodeServer: Service, Sendable {
    public let configuration: NodeConfiguration
    public let node: BallotNode
    let transport: PeerTransport
    /// The node's peer credentials, re-read on SIGHUP.
    public let trust: PeerTrustStore
    let http: HTTPEndpoint?
    let logger: Logger
    let printEvents: Bool

    /// Opens the data directory, reads the peer credentials and builds every part; nothing is bound
    /// or sent yet.
    public init(configuration: NodeConfiguration, logger: Logger, version: String = BallotVersion.current,
                printEvents: Bool = false) async throws {
        self.configuration = configuration
        self.logger = logger
        let store = try HardStateStore(configuration: configuration)
        var seed = SystemRandomNumberGenerator()
        let core = configuration.algorithm.makeCore(
            id: configuration.id, membership: configuration.membership, raft: configuration.raftConfiguration,
            hardState: store.recoveredState, random: SplitMix64(seed: seed.next()))
        let peerIDs = configuration.peers.map(\.id)
        let recorder = MetricsRecorder(
            view: LeadershipView(node: configuration.id), membership: configuration.membership,
            algorithm: configuration.algorithm.rawValue, version: version, tickDuration: configuration.tickInterval)
        let outbox = PeerOutbox(peers: peerIDs, recorder: recorder)
        node = BallotNode(core: core, tick: configuration.tickInterval, electionTimeout: configuration.electionTimeout,
                          store: store, outbox: outbox, recorder: recorder, logger: logger)
        let policy = HandshakePolicy(localNode: configuration.id, clusterName: configuration.cluster,
                                     membership: configuration.membership, algorithm: configuration.algorithm)
        trust = try await PeerTrustStore(
            configuration: configuration.peerTrust,
            identity: PeerIdentity(clusterName: configuration.cluster, node: configuration.id),
            recorder: recorder, logger: logger)
        transport = PeerTransport(node: node, peers: configuration.peers, policy: policy,
                                  limits: try WireLimits(maxFrameLength: configuration.maxFrameSize), trust: trust,
                                  printEvents: printEvents, logger: logger)
        http = HTTPEndpoint(routes: HTTPRoutes(node: node, electionTimeout: configuration.electionTimeout), logger: logger)
        self.printEvents = printEvents
        logger.info("recovered hard state", metadata: [
            "term": "\(store.recoveredState.term)",
            "voted_for": "\(store.recoveredState.votedFor.map { "\($0)" } ?? "-")",
        ])
    }

    /// Binds both listeners, then runs until graceful shutdown.
    public func run() async throws {
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
            "peer_auth": "\(peerAuthDescription)",
        ])
        if printEvents { EventLine.follow(node.view) }
        logLeadershipChanges()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.transport.run(listener: listener) }
            if let http, let httpListener {
                group.addTask { try await http.run(listener: httpListener) }
            }
            group.addTask { try await self.node.runClock() }
            group.addTask { await self.reloadOnHangUp() }
            // Runs until SIGTERM/SIGINT (or a failure above), then hands leadership over.
            do {
                try await gracefulShutdown()
            } catch {
                group.cancelAll()
                throw error
            }
            logger.notice("shutting down")
            await node.shutDown()
            group.cancelAll()
        }
    }
}

extension NodeServer {
    /// Re-reads the peer credentials on every SIGHUP, until the task is cancelled.
    func reloadOnHangUp() async {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals {
            logger.notice("SIGHUP: re-reading peer credentials")
            await trust.reload()
        }
    }

    /// `tls`, `cluster-secret`, `tls+cluster-secret` or `none`, for the start-up line.
    var peerAuthDescription: String {
        let material = trust.current
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
