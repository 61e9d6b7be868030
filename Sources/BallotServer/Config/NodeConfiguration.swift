import BallotBackends
import BallotClient
import BallotCore
import BallotWire
import Logging

/// Everything one node needs to start, validated: who it is, who its peers are, where it listens
/// and keeps its state, and how fast its election timers run.
///
/// Build it from settings with ``load(configFile:flags:)`` (YAML file + flags + data-directory
/// check), ``init(_:)`` (settings already merged), or the memberwise initializer (tests, tools).
/// Every initializer validates; a value of this type is always a working configuration.
public struct NodeConfiguration: Hashable, Sendable {
    public let id: NodeID
    /// What elects this node's leader: Ballot's own peers (Raft, or Bully/Ring), or a
    /// coordination service (etcd, ZooKeeper), with that backend's settings.
    public let backend: ElectionBackendConfiguration
    /// Where the peer listener binds (Raft only: a backend node has no peers).
    public let listenAddress: SocketAddressSpec?
    /// The other members, sorted by ID.
    public let peers: [PeerAddress]
    /// Where `/metrics`, `/healthz` and status are served; `nil` turns the HTTP endpoint off.
    public let httpAddress: SocketAddressSpec?
    /// Holds the durable state and the lock; see ``HardStateStore``.
    public let dataDirectory: String
    public let cluster: ClusterName
    /// T: the shortest election timeout; timeouts are drawn from [T, 2T) (Raft §5.2).
    public let electionTimeout: Duration
    public let heartbeatInterval: Duration
    /// The largest peer-protocol frame this node sends or accepts, in bytes.
    public let maxFrameSize: Int
    public let algorithm: ElectionAlgorithmKind
    /// How peers prove who they are (mutual TLS, the cluster secret) and the limits on connections
    /// that have not yet.
    public let peerTrust: PeerTrustConfiguration
    /// Issue 15: this node's leadership priority; higher is preferred, 0 is the default and lowest.
    public let priority: UInt16
    /// Issue 15: how long a member of higher priority must be eligible, caught up and answering
    /// before the leader hands over to it; also the least time between two such hand-overs.
    /// Default 30 s, or the election timeout if that is longer.
    public let preemptAfter: Duration
    /// Issue 15: the URL this node's HTTP endpoint is reached at, told to every peer so that any
    /// member can name the leader's (`leader_http`).
    public let advertisedHTTP: String?
    /// Issue 15: how long a resigning leader refrains from campaigning when the resignation names
    /// no hold-off of its own. Default: the election timeout.
    public let resignHoldOff: Duration
    /// When an ended lease stops binding successors (issue 15, released hand-overs).
    public let leaseRelease: LeaseRelease
    /// A cap on the leader's lease (`nil`: the longest the election timeout allows); see
    /// ``RaftConfiguration/leaseLimitTicks``.
    public let leaseDuration: Duration?
    /// Limits, TLS, authorization and the admin listener of the HTTP surface.
    public let http: HTTPConfiguration
    public let logLevel: Logger.Level
    public let logFormat: LogFormat
    /// Whether to print `event=…` lines on standard output (``EventLine``).
    public let printEvents: Bool

    public static let defaultCluster = ClusterName.default
    public static let defaultElectionTimeout = Duration.seconds(1)
    public static let defaultHeartbeatInterval = Duration.milliseconds(100)
    public static let defaultMaxFrameSize = 65536
    public static let defaultAlgorithm = ElectionAlgorithmKind.raft
    public static let defaultLogLevel = Logger.Level.info
    public static let defaultLogFormat = LogFormat.text
    public static let defaultPriority: UInt16 = 0
    public static let defaultPreemptAfter = Duration.seconds(30)
    /// A hold-off longer than this is what ineligibility (`PUT /candidacy`) is for.
    public static let maximumResignHoldOff = Duration.seconds(300)

    /// From 1 KiB — room for a handshake with a 255-byte cluster name and any election message —
    /// to 16 MiB, beyond which a frame is a bug or an attack, not an election message.
    public static let maxFrameSizeRange = 1024...(16 << 20)
    /// A node needs at least this many ticks per election timeout: the lease loses one tick to tick
    /// granularity (see `RaftConfiguration.leaseTicks`), and 10 keeps that loss at 10% or less.
    public static let minimumElectionTimeoutTicks: UInt64 = 10
    /// Longer than this and a crashed leader goes unnoticed for minutes; almost surely a typo.
    public static let maximumElectionTimeout = Duration.seconds(600)

    public init(
        id: NodeID,
        backend: ElectionBackendConfiguration = .raft,
        listenAddress: SocketAddressSpec?,
        peers: [PeerAddress] = [],
        httpAddress: SocketAddressSpec? = nil,
        dataDirectory: String,
        cluster: ClusterName = Self.defaultCluster,
        electionTimeout: Duration = Self.defaultElectionTimeout,
        heartbeatInterval: Duration = Self.defaultHeartbeatInterval,
        maxFrameSize: Int = Self.defaultMaxFrameSize,
        algorithm: ElectionAlgorithmKind = Self.defaultAlgorithm,
        peerTrust: PeerTrustConfiguration = PeerTrustConfiguration(),
        priority: UInt16 = Self.defaultPriority,
        preemptAfter: Duration? = nil,
        advertisedHTTP: String? = nil,
        resignHoldOff: Duration? = nil,
        leaseRelease: LeaseRelease = .holders,
        leaseDuration: Duration? = nil,
        http: HTTPConfiguration = HTTPConfiguration(),
        logLevel: Logger.Level = Self.defaultLogLevel,
        logFormat: LogFormat = Self.defaultLogFormat,
        printEvents: Bool = false
    ) throws(ConfigurationError) {
        guard !dataDirectory.isEmpty else { throw .dataDirectoryUnusable(path: dataDirectory, .empty) }
        let sortedPeers = peers.sorted { $0.id < $1.id }
        switch backend {
        case .raft:
            guard listenAddress != nil else { throw .missingSetting(.listen) }
        case .etcd, .zookeeper:
            if listenAddress != nil { throw .settingNotForBackend(.listen, backend.kind) }
            if !peers.isEmpty { throw .settingNotForBackend(.peers, backend.kind) }
        }
        try Self.validateMembers(id: id, listen: listenAddress, http: httpAddress, admin: http.adminAddress,
                                 peers: sortedPeers)
        guard Self.maxFrameSizeRange.contains(maxFrameSize) else { throw .maxFrameSizeOutOfRange(maxFrameSize) }
        try Self.validateTiming(electionTimeout: electionTimeout, heartbeatInterval: heartbeatInterval)
        // Secure by default: off loopback, whoever can reach the port could otherwise depose the leader.
        if let listenAddress, !listenAddress.isLoopback && !peerTrust.authenticatesPeers && !peerTrust.insecurePeers {
            throw .unauthenticatedPeers(listen: listenAddress)
        }
        // The default window is 30 s, or the election timeout when that is longer.
        let preemptAfter = preemptAfter ?? max(Self.defaultPreemptAfter, electionTimeout)
        guard preemptAfter >= electionTimeout else {
            throw .preemptionWindowTooShort(preemptAfter: preemptAfter, electionTimeout: electionTimeout)
        }
        if priority != Self.defaultPriority && !algorithm.supportsCandidacy { throw .candidacyNeedsRaft(algorithm) }
        if let advertisedHTTP, !Self.isValidAdvertisedURL(advertisedHTTP) { throw .invalidAdvertisedURL(advertisedHTTP) }
        if let resignHoldOff, resignHoldOff > Self.maximumResignHoldOff { throw .resignHoldOffTooLong(resignHoldOff) }
        let resignHoldOff = resignHoldOff ?? min(electionTimeout, Self.maximumResignHoldOff)
        if let leaseDuration {
            try Self.validateLeaseDuration(leaseDuration, algorithm: algorithm, electionTimeout: electionTimeout,
                                           heartbeatInterval: heartbeatInterval)
        }

        self.id = id
        self.backend = backend
        self.listenAddress = listenAddress
        self.peers = sortedPeers
        self.httpAddress = httpAddress
        self.dataDirectory = dataDirectory
        self.cluster = cluster
        self.electionTimeout = electionTimeout
        self.heartbeatInterval = heartbeatInterval
        self.maxFrameSize = maxFrameSize
        self.algorithm = algorithm
        self.peerTrust = peerTrust
        self.priority = priority
        self.preemptAfter = preemptAfter
        self.advertisedHTTP = advertisedHTTP
        self.resignHoldOff = resignHoldOff
        self.leaseRelease = leaseRelease
        self.leaseDuration = leaseDuration
        self.http = http
        self.logLevel = logLevel
        self.logFormat = logFormat
        self.printEvents = printEvents
    }

    /// Validates merged settings, filling in defaults. `id` (or `id_from_hostname`) and `data_dir`
    /// are required, and `listen` with Raft; a setting of another backend is refused.
    /// `hostname` is read only for `id_from_hostname`.
    public init(
        _ settings: NodeSettings, hostname: () throws(ConfigurationError) -> String = HostName.current
    ) throws(ConfigurationError) {
        let kind = settings.backend ?? .raft
        if let foreign = settings.settingNotFor(backend: kind) { throw .settingNotForBackend(foreign, kind) }
        let id = try Self.nodeID(settings, hostname: hostname)
        let backend = try ElectionBackendConfiguration(kind, settings)
        if kind == .raft, settings.listen == nil { throw .missingSetting(.listen) }
        guard let dataDirectory = settings.dataDirectory else { throw .missingSetting(.dataDirectory) }
        try self.init(
            id: id,
            backend: backend,
            listenAddress: settings.listen,
            peers: try Self.peers(settings, id: id),
            httpAddress: settings.http,
            dataDirectory: dataDirectory,
            cluster: settings.cluster ?? Self.defaultCluster,
            electionTimeout: settings.electionTimeout ?? Self.defaultElectionTimeout,
            heartbeatInterval: settings.heartbeatInterval ?? Self.defaultHeartbeatInterval,
            maxFrameSize: settings.maxFrameSize ?? Self.defaultMaxFrameSize,
            algorithm: settings.algorithm ?? Self.defaultAlgorithm,
            peerTrust: try PeerTrustConfiguration(settings),
            priority: settings.priority ?? Self.defaultPriority,
            preemptAfter: settings.preemptAfter,
            advertisedHTTP: settings.advertiseHTTP,
            resignHoldOff: settings.resignHoldOff,
            leaseRelease: settings.leaseRelease ?? .holders,
            leaseDuration: settings.leaseDuration,
            http: try HTTPConfiguration(settings),
            logLevel: settings.logLevel ?? Self.defaultLogLevel,
            logFormat: settings.logFormat ?? Self.defaultLogFormat,
            printEvents: settings.events ?? false)
    }

    /// Validates the file's settings with the command line's put over them (``NodeSettings/overridden(by:)``).
    public init(file: NodeSettings, flags: NodeSettings) throws(ConfigurationError) {
        try self.init(file.overridden(by: flags))
    }

    /// Reads the YAML file if one is named, lays the flags over it, validates, and checks that the
    /// data directory can be created and written. (The commands use ``ConfigurationLayers``, which
    /// adds the environment between the two.)
    public static func load(configFile: String?, flags: NodeSettings) throws(ConfigurationError) -> NodeConfiguration {
        let file = try configFile.map { path throws(ConfigurationError) in try NodeSettings(contentsOfFile: path) }
        let configuration = try NodeConfiguration(file: file ?? NodeSettings(), flags: flags)
        try configuration.checkDataDirectory()
        return configuration
    }

    // MARK: - Identity

    /// `id`, or the StatefulSet ordinal of the hostname with `id_from_hostname`; not both.
    static func nodeID(
        _ settings: NodeSettings, hostname: () throws(ConfigurationError) -> String
    ) throws(ConfigurationError) -> NodeID {
        guard settings.idFromHostname == true else {
            guard let id = settings.id else { throw .missingSetting(.id) }
            return id
        }
        guard settings.id == nil else { throw .conflictingSettings(.id, .idFromHostname) }
        return try StatefulSetIdentity.nodeID(fromHostname: hostname())
    }

    /// `peers`, or every member of `members` at `peer_address_template`'s address; not both.
    static func peers(_ settings: NodeSettings, id: NodeID) throws(ConfigurationError) -> [PeerAddress] {
        switch (settings.members, settings.peerAddressTemplate) {
        case (nil, nil):
            return settings.peers ?? []
        case (let members?, let template?):
            guard settings.peers == nil else { throw .conflictingSettings(.peers, .members) }
            return try StatefulSetIdentity.peers(members: members, template: template, excluding: id)
        case (_?, nil):
            throw .incompleteSettings(given: .members, missing: .peerAddressTemplate)
        case (nil, _?):
            throw .incompleteSettings(given: .peerAddressTemplate, missing: .members)
        }
    }

    // MARK: - Derived values

    /// All members, this node included, in ascending order.
    public var membership: Membership { Membership([id] + peers.map(\.id)) }

    /// An advertised URL names an http or https endpoint and fits the peer protocol's `member_info`
    /// (1–255 bytes of printable ASCII).
    public static func isValidAdvertisedURL(_ text: String) -> Bool {
        (text.hasPrefix("http://") || text.hasPrefix("https://")) && MemberInfo.isValidURL(text)
            && text.utf8.count > (text.hasPrefix("https://") ? 8 : 7)
    }

    /// Peer addresses by ID.
    public var peerAddresses: [NodeID: SocketAddressSpec] {
        Dictionary(uniqueKeysWithValues: peers.map { ($0.id, $0.address) })
    }

    // MARK: - Validation

    private static func validateMembers(
        id: NodeID, listen: SocketAddressSpec?, http: SocketAddressSpec?, admin: SocketAddressSpec?, peers: [PeerAddress]
    ) throws(ConfigurationError) {
        if peers.contains(where: { $0.id == id }) { throw .nodeAmongPeers(id) }
        for (previous, next) in zip(peers, peers.dropFirst()) where previous.id == next.id {
            throw .duplicatePeer(next.id)
        }
        if let wildcard = peers.first(where: \.address.isWildcard) {
            throw .wildcardPeerAddress(wildcard.id, wildcard.address)
        }
        var owners: [(AddressOwner, SocketAddressSpec)] = listen.map { [(.listener(id), $0)] } ?? []
        if let http { owners.append((.http(id), http)) }
        if let admin { owners.append((.adminHTTP(id), admin)) }
        owners += peers.map { (.peer($0.id), $0.address) }
        for (i, first) in owners.enumerated() {
            for second in owners[(i + 1)...] where first.1.overlaps(second.1) {
                throw .sharedAddress(second.1, first.0, second.0)
            }
        }
    }

    /// A lease cap must leave room for two heartbeats (one late heartbeat must not end it) and be
    /// no longer than the election timeout allows; Bully and Ring have no lease to cap.
    private static func validateLeaseDuration(
        _ lease: Duration, algorithm: ElectionAlgorithmKind, electionTimeout: Duration, heartbeatInterval: Duration
    ) throws(ConfigurationError) {
        guard algorithm == .raft else { throw .leaseDurationNeedsRaft(algorithm) }
        let tick = tickInterval(heartbeatInterval: heartbeatInterval)
        let longest = RaftConfiguration(electionTimeoutTicks: ticks(electionTimeout, per: tick),
                                        heartbeatIntervalTicks: ticks(heartbeatInterval, per: tick)).leaseTicks
        let shortest = 2 * ticks(heartbeatInterval, per: tick)
        let asked = ticks(lease, per: tick)
        guard asked >= shortest, asked <= longest else {
            throw .leaseDurationOutOfRange(lease, shortest: tick * Int(shortest), longest: tick * Int(longest))
        }
    }

    private static func validateTiming(electionTimeout: Duration, heartbeatInterval: Duration) throws(ConfigurationError) {
        guard heartbeatInterval >= .milliseconds(1) else { throw .heartbeatTooShort(heartbeatInterval) }
        guard electionTimeout <= maximumElectionTimeout else { throw .electionTimeoutTooLong(electionTimeout) }
        // Raft §5.2 needs broadcast time ≪ election timeout; a third leaves room for two lost
        // heartbeats before a follower gives up on its leader.
        guard heartbeatInterval * 3 <= electionTimeout else {
            throw .heartbeatTooLong(heartbeat: heartbeatInterval, electionTimeout: electionTimeout)
        }
        let tick = tickInterval(heartbeatInterval: heartbeatInterval)
        guard ticks(electionTimeout, per: tick) >= minimumElectionTimeoutTicks else {
            throw .electionTimeoutTooShort(electionTimeout: electionTimeout, tick: tick)
        }
    }
}
