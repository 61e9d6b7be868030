import BallotBackends
import BallotClient
import BallotCore
import BallotZooKeeper

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
    public var backend: BackendKind?
    public var election: ElectionName?
    public var etcdEndpoints: [EtcdEndpoint]?
    public var leaseTTL: Duration?
    public var etcdCredentialsFile: String?
    public var etcdCAFile: String?
    public var etcdCertFile: String?
    public var etcdKeyFile: String?
    public var zookeeper: [ZooKeeperServerAddress]?
    public var sessionTimeout: Duration?
    public var zookeeperFollowerLag: Duration?

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
        case .backend:
            guard let kind = BackendKind(rawValue: text) else { throw .unknownBackend(text) }
            backend = kind
        case .election:
            do throws(ElectionNameProblem) { election = try ElectionName(text) } catch { throw .invalidElectionName(text, error) }
        case .etcdEndpoints:
            do throws(EtcdConfigurationError) { etcdEndpoints = try EtcdEndpoint.parseList(text) } catch { throw .etcd(error) }
        case .leaseTTL: leaseTTL = try DurationParser.parse(text)
        case .etcdCredentialsFile: etcdCredentialsFile = try Self.path(text)
        case .etcdCAFile: etcdCAFile = try Self.path(text)
        case .etcdCertFile: etcdCertFile = try Self.path(text)
        case .etcdKeyFile: etcdKeyFile = try Self.path(text)
        case .zookeeper:
            do throws(ZooKeeperConfigurationError) {
                zookeeper = try ZooKeeperServerAddress.parseList(text)
            } catch {
                throw .invalidZooKeeperServers(error)
            }
        case .sessionTimeout: sessionTimeout = try DurationParser.parse(text)
        case .zookeeperFollowerLag:
            // 0 is meaningful here: a standalone server has no followers.
            zookeeperFollowerLag = Self.isZero(text) ? .zero : try DurationParser.parse(text)
        }
    }

    /// `0`, `0s`, `0ms`, `0.0s`…: a zero duration, which most settings refuse but a follower lag allows.
    private static func isZero(_ text: String) -> Bool {
        let number = text.prefix { $0.isNumber || $0 == "." }
        let unit = text.dropFirst(number.count)
        return !number.isEmpty && number.allSatisfy { $0 == "0" || $0 == "." } && ["", "s", "ms", "us", "ns", "m"].contains(unit)
    }

    private static func path(_ text: String) throws(ConfigurationError) -> String {
        guard !text.isEmpty else { throw .wrongType(expected: "a file path", found: "nothing") }
        return text
    }

    /// The settings this source gave, for refusing those of another backend.
    public var givenKeys: [ConfigurationKey] {
        let given: [(ConfigurationKey, Bool)] = [
            (.id, id != nil), (.listen, listen != nil), (.http, http != nil), (.dataDirectory, dataDirectory != nil),
            (.cluster, cluster != nil), (.electionTimeout, electionTimeout != nil),
            (.heartbeatInterval, heartbeatInterval != nil), (.maxFrameSize, maxFrameSize != nil),
            (.algorithm, algorithm != nil), (.peers, !(peers ?? []).isEmpty), (.backend, backend != nil),
            (.election, election != nil), (.etcdEndpoints, etcdEndpoints != nil), (.leaseTTL, leaseTTL != nil),
            (.etcdCredentialsFile, etcdCredentialsFile != nil), (.etcdCAFile, etcdCAFile != nil),
            (.etcdCertFile, etcdCertFile != nil), (.etcdKeyFile, etcdKeyFile != nil), (.zookeeper, zookeeper != nil),
            (.sessionTimeout, sessionTimeout != nil), (.zookeeperFollowerLag, zookeeperFollowerLag != nil),
        ]
        return given.filter(\.1).map(\.0)
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
        merged.backend = flags.backend ?? backend
        merged.election = flags.election ?? election
        merged.etcdEndpoints = flags.etcdEndpoints ?? etcdEndpoints
        merged.leaseTTL = flags.leaseTTL ?? leaseTTL
        merged.etcdCredentialsFile = flags.etcdCredentialsFile ?? etcdCredentialsFile
        merged.etcdCAFile = flags.etcdCAFile ?? etcdCAFile
        merged.etcdCertFile = flags.etcdCertFile ?? etcdCertFile
        merged.etcdKeyFile = flags.etcdKeyFile ?? etcdKeyFile
        merged.zookeeper = flags.zookeeper ?? zookeeper
        merged.sessionTimeout = flags.sessionTimeout ?? sessionTimeout
        merged.zookeeperFollowerLag = flags.zookeeperFollowerLag ?? zookeeperFollowerLag
        return merged
    }

    static func parseInteger(_ text: String) throws(ConfigurationError) -> Int {
        guard text.isCanonicalDecimal, let value = Int(text) else {
            throw .invalidInteger(text)
        }
        return value
    }
}
