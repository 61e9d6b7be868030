import BallotCore
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
    let logger: Logger
    let events: EventLine?

    /// Opens the data directory and builds every part; nothing is bound or sent yet.
    public init(configuration: NodeConfiguration, logger: Logger, version: String = BallotVersion.current,
                printEvents: Bool = false) throws {
        self.configuration = configuration
        self.logger = logger
        let store = try HardStateStore(configuration: configuration)
        let core = Self.makeCore(configuration, hardState: store.recoveredState)
        let peerIDs = configuration.peers.map(\.id)
        let recorder = MetricsRecorder(
            nodeID: configuration.id, membership: configuration.membership,
            algorithm: configuration.algorithm.rawValue, version: version, tickDuration: configuration.tickInterval)
        let outbox = PeerOutbox(peers: peerIDs)
        node = BallotNode(core: core, tick: configuration.tickInterval, electionTimeout: configuration.electionTimeout,
                          store: store, outbox: outbox, recorder: recorder, logger: logger)
        let policy = HandshakePolicy(localNode: configuration.id, clusterName: configuration.cluster,
                                     membership: configuration.membership, algorithm: configuration.algorithm)
        transport = PeerTransport(node: node, peers: configuration.peers, policy: policy,
                                  limits: try WireLimits(maxFrameLength: configuration.maxFrameSize), logger: logger)
        http = HTTPEndpoint(routes: HTTPRoutes(node: node, electionTimeout: configuration.electionTimeout), logger: logger)
        events = printEvents ? EventLine(node: configuration.id) : nil
        logger.info("recovered hard state", metadata: [
            "term": "\(store.recoveredState.term)",
            "voted_for": "\(store.recoveredState.votedFor.map { "\($0)" } ?? "-")",
        ])
    }

    static func makeCore(_ configuration: NodeConfiguration, hardState: HardState) -> any ElectionAlgorithm {
        var seed = SystemRandomNumberGenerator()
        let random = SplitMix64(seed: seed.next())
        switch configuration.algorithm {
        case .raft:
            return RaftNode(id: configuration.id, membership: configuration.membership,
                            configuration: configuration.raftConfiguration, hardState: hardState, random: random)
        case .bully:
            return BullyNode(id: configuration.id, membership: configuration.membership,
                             configuration: .matching(electionTimeoutTicks: configuration.electionTimeoutTicks,
                                                      heartbeatIntervalTicks: configuration.heartbeatIntervalTicks),
                             hardState: hardState, random: random)
        case .ring:
            return RingNode(id: configuration.id, membership: configuration.membership,
                            configuration: .matching(electionTimeoutTicks: configuration.electionTimeoutTicks,
                                                     heartbeatIntervalTicks: configuration.heartbeatIntervalTicks,
                                                     members: configuration.membership.count),
                            hardState: hardState, random: random)
        }
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
        ])
        if let events { await node.observeLease { events.lease($0) } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.transport.run(listener: listener) }
            if let http, let httpListener {
                group.addTask { try await http.run(listener: httpListener) }
            }
            if let events {
                group.addTask { await events.follow(self.node) }
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
            group.cancelAll()
        }
    }
}

/// Reasons a node cannot keep running.
public enum StartupError: Error, CustomStringConvertible {
    case halted(StateStoreError)

    public var description: String {
        switch self {
        case .halted(let error): "stopped because hard state could not be persisted: \(error)"
        }
    }
}

/// Version reported by `ballot_build_info` and `ballot --version`.
public enum BallotVersion {
    public static let current = "0.1.0"
}
