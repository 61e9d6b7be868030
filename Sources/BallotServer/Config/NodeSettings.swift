import BallotClient
import BallotCore

/// The settings one source gave — the command line or a YAML file — each already parsed, each
/// `nil` when that source did not mention it.
///
/// Build one per source, combine them with ``overridden(by:)`` (flags win over the file), then
/// validate the result with ``NodeConfiguration/init(_:)``.
public struct NodeSettings: Hashable, Sendable {
    public var id: NodeID?
    public var listen: SocketAddressSpec?
    public var http: SocketAddressSpec?
    public var dataDirectory: String?
    public var cluster: ClusterName?
    public var electionTimeout: Duration?
    public var heartbeatInterval: Duration?
    public var maxFrameSize: Int?
    public var algorithm: ElectionAlgorithmKind?
    /// In the order given; duplicates are kept so that validation can report them.
    public var peers: [PeerAddress]?
    public var peerTLSCertificate: String?
    public var peerTLSKey: String?
    public var peerTLSCA: String?
    public var clusterSecretFile: String?
    /// In the order given; repeatable on the command line, a list in the file.
    public var clusterSecretAlsoAccept: [String]?
    public var insecurePeers: Bool?
    public var peerHandshakeTimeout: Duration?
    public var peerMaxPendingHandshakes: Int?

    public init(
        id: NodeID? = nil, listen: SocketAddressSpec? = nil, http: SocketAddressSpec? = nil,
        dataDirectory: String? = nil, cluster: ClusterName? = nil, electionTimeout: Duration? = nil,
        heartbeatInterval: Duration? = nil, maxFrameSize: Int? = nil, algorithm: ElectionAlgorithmKind? = nil,
        peers: [PeerAddress]? = nil
    ) {
        self.id = id
        self.listen = listen
        self.http = http
        self.dataDirectory = dataDirectory
        self.cluster = cluster
        self.electionTimeout = electionTimeout
        self.heartbeatInterval = heartbeatInterval
        self.maxFrameSize = maxFrameSize
        self.algorithm = algorithm
        self.peers = peers
    }

    /// Records one command-line flag's text, e.g. `apply(flag: .electionTimeout, value: "1s")`.
    /// `.peers` takes one `ID=HOST:PORT` per call and appends it; every other key replaces.
    /// Errors name the flag: `--election-timeout: "1x": unknown unit 'x'; use ms, s or m`.
    public mutating func apply(flag key: ConfigurationKey, value: String) throws(ConfigurationError) {
        do throws(ConfigurationError) {
            try apply(key, text: value)
        } catch {
            throw .invalidSetting(.flag(key), error)
        }
    }

    /// Parses `text` as the value of `key`, without naming where it came from.
    mutating func apply(_ key: ConfigurationKey, text: String) throws(ConfigurationError) {
        switch key {
        case .id: id = try NodeID(parsing: text)
        case .listen: listen = try SocketAddressSpec(parsing: text)
        case .http: http = try SocketAddressSpec(parsing: text)
        case .dataDirectory:
            guard !text.isEmpty else { throw .dataDirectoryUnusable(path: text, .empty) }
            dataDirectory = text
        case .cluster: cluster = try ClusterName(configured: text)
        case .electionTimeout: electionTimeout = try DurationParser.parse(text)
        case .heartbeatInterval: heartbeatInterval = try DurationParser.parse(text)
        case .maxFrameSize: maxFrameSize = try Self.parseInteger(text)
        case .algorithm: algorithm = try ElectionAlgorithmKind(parsing: text)
        case .peers: peers = (peers ?? []) + [try PeerAddress(parsing: text)]
        case .peerTLSCertificate: peerTLSCertificate = try Self.path(text)
        case .peerTLSKey: peerTLSKey = try Self.path(text)
        case .peerTLSCA: peerTLSCA = try Self.path(text)
        case .clusterSecretFile: clusterSecretFile = try Self.path(text)
        case .clusterSecretAlsoAccept: clusterSecretAlsoAccept = (clusterSecretAlsoAccept ?? []) + [try Self.path(text)]
        case .insecurePeers:
            switch text {
            case "true": insecurePeers = true
            case "false": insecurePeers = false
            default: throw .wrongType(expected: "true or false", found: "the text \"\(text)\"")
            }
        case .peerHandshakeTimeout: peerHandshakeTimeout = try DurationParser.parse(text)
        case .peerMaxPendingHandshakes: peerMaxPendingHandshakes = try Self.parseInteger(text)
        }
    }

    /// A file path as given; only an empty one is refused here (the file is read when the node starts).
    static func path(_ text: String) throws(ConfigurationError) -> String {
        guard !text.isEmpty else { throw .wrongType(expected: "a file path", found: "an empty text") }
        return text
    }

    /// These settings with every setting `flags` gives put in place of this one's.
    ///
    /// Peers are replaced as a whole, not merged by ID: once any `--peer` is given, the file's
    /// peer list is ignored, so the command line alone says who the members are.
    public func overridden(by flags: NodeSettings) -> NodeSettings {
        var merged = NodeSettings(
            id: flags.id ?? id,
            listen: flags.listen ?? listen,
            http: flags.http ?? http,
            dataDirectory: flags.dataDirectory ?? dataDirectory,
            cluster: flags.cluster ?? cluster,
            electionTimeout: flags.electionTimeout ?? electionTimeout,
            heartbeatInterval: flags.heartbeatInterval ?? heartbeatInterval,
            maxFrameSize: flags.maxFrameSize ?? maxFrameSize,
            algorithm: flags.algorithm ?? algorithm,
            peers: flags.peers ?? peers)
        merged.peerTLSCertificate = flags.peerTLSCertificate ?? peerTLSCertificate
        merged.peerTLSKey = flags.peerTLSKey ?? peerTLSKey
        merged.peerTLSCA = flags.peerTLSCA ?? peerTLSCA
        merged.clusterSecretFile = flags.clusterSecretFile ?? clusterSecretFile
        merged.clusterSecretAlsoAccept = flags.clusterSecretAlsoAccept ?? clusterSecretAlsoAccept
        merged.insecurePeers = flags.insecurePeers ?? insecurePeers
        merged.peerHandshakeTimeout = flags.peerHandshakeTimeout ?? peerHandshakeTimeout
        merged.peerMaxPendingHandshakes = flags.peerMaxPendingHandshakes ?? peerMaxPendingHandshakes
        return merged
    }

    static func parseInteger(_ text: String) throws(ConfigurationError) -> Int {
        guard text.isCanonicalDecimal, let value = Int(text) else {
            throw .invalidInteger(text)
        }
        return value
    }
}
