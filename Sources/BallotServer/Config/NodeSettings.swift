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
    public var adminHTTP: SocketAddressSpec?
    public var httpIdleTimeout: Duration?
    public var httpRequestTimeout: Duration?
    public var httpMaxHeadSize: Int?
    public var httpMaxConnections: Int?
    public var httpMaxStreams: Int?
    public var httpTLSCert: String?
    public var httpTLSKey: String?
    public var httpTLSClientCA: String?
    public var httpTokenFile: String?
    public var httpAuthReads: Bool?

    public init(
        id: NodeID? = nil, listen: SocketAddressSpec? = nil, http: SocketAddressSpec? = nil,
        dataDirectory: String? = nil, cluster: ClusterName? = nil, electionTimeout: Duration? = nil,
        heartbeatInterval: Duration? = nil, maxFrameSize: Int? = nil, algorithm: ElectionAlgorithmKind? = nil,
        peers: [PeerAddress]? = nil, adminHTTP: SocketAddressSpec? = nil, httpIdleTimeout: Duration? = nil,
        httpRequestTimeout: Duration? = nil, httpMaxHeadSize: Int? = nil, httpMaxConnections: Int? = nil,
        httpMaxStreams: Int? = nil, httpTLSCert: String? = nil, httpTLSKey: String? = nil,
        httpTLSClientCA: String? = nil, httpTokenFile: String? = nil, httpAuthReads: Bool? = nil
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
        self.adminHTTP = adminHTTP
        self.httpIdleTimeout = httpIdleTimeout
        self.httpRequestTimeout = httpRequestTimeout
        self.httpMaxHeadSize = httpMaxHeadSize
        self.httpMaxConnections = httpMaxConnections
        self.httpMaxStreams = httpMaxStreams
        self.httpTLSCert = httpTLSCert
        self.httpTLSKey = httpTLSKey
        self.httpTLSClientCA = httpTLSClientCA
        self.httpTokenFile = httpTokenFile
        self.httpAuthReads = httpAuthReads
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
        case .adminHTTP: adminHTTP = try SocketAddressSpec(parsing: text)
        case .httpIdleTimeout: httpIdleTimeout = try DurationParser.parse(text)
        case .httpRequestTimeout: httpRequestTimeout = try DurationParser.parse(text)
        case .httpMaxHeadSize: httpMaxHeadSize = try Self.parseInteger(text)
        case .httpMaxConnections: httpMaxConnections = try Self.parseInteger(text)
        case .httpMaxStreams: httpMaxStreams = try Self.parseInteger(text)
        case .httpTLSCert: httpTLSCert = try Self.parsePath(text)
        case .httpTLSKey: httpTLSKey = try Self.parsePath(text)
        case .httpTLSClientCA: httpTLSClientCA = try Self.parsePath(text)
        case .httpTokenFile: httpTokenFile = try Self.parsePath(text)
        case .httpAuthReads: httpAuthReads = try Self.parseBoolean(text)
        }
    }

    /// These settings with every setting `flags` gives put in place of this one's.
    ///
    /// Peers are replaced as a whole, not merged by ID: once any `--peer` is given, the file's
    /// peer list is ignored, so the command line alone says who the members are.
    public func overridden(by flags: NodeSettings) -> NodeSettings {
        NodeSettings(
            id: flags.id ?? id,
            listen: flags.listen ?? listen,
            http: flags.http ?? http,
            dataDirectory: flags.dataDirectory ?? dataDirectory,
            cluster: flags.cluster ?? cluster,
            electionTimeout: flags.electionTimeout ?? electionTimeout,
            heartbeatInterval: flags.heartbeatInterval ?? heartbeatInterval,
            maxFrameSize: flags.maxFrameSize ?? maxFrameSize,
            algorithm: flags.algorithm ?? algorithm,
            peers: flags.peers ?? peers,
            adminHTTP: flags.adminHTTP ?? adminHTTP,
            httpIdleTimeout: flags.httpIdleTimeout ?? httpIdleTimeout,
            httpRequestTimeout: flags.httpRequestTimeout ?? httpRequestTimeout,
            httpMaxHeadSize: flags.httpMaxHeadSize ?? httpMaxHeadSize,
            httpMaxConnections: flags.httpMaxConnections ?? httpMaxConnections,
            httpMaxStreams: flags.httpMaxStreams ?? httpMaxStreams,
            httpTLSCert: flags.httpTLSCert ?? httpTLSCert,
            httpTLSKey: flags.httpTLSKey ?? httpTLSKey,
            httpTLSClientCA: flags.httpTLSClientCA ?? httpTLSClientCA,
            httpTokenFile: flags.httpTokenFile ?? httpTokenFile,
            httpAuthReads: flags.httpAuthReads ?? httpAuthReads)
    }

    /// A file path: any non-empty text.
    static func parsePath(_ text: String) throws(ConfigurationError) -> String {
        guard !text.isEmpty else { throw .emptyPath }
        return text
    }

    /// `true` or `false`, as a flag's value or an environment variable's.
    static func parseBoolean(_ text: String) throws(ConfigurationError) -> Bool {
        switch text {
        case "true": return true
        case "false": return false
        default: throw .invalidBoolean(text)
        }
    }

    static func parseInteger(_ text: String) throws(ConfigurationError) -> Int {
        guard text.isCanonicalDecimal, let value = Int(text) else {
            throw .invalidInteger(text)
        }
        return value
    }
}
