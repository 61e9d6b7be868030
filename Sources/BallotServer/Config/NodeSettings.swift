import BallotBackends
import BallotClient
import BallotCore
import BallotZooKeeper
import Logging

/// The settings one source gave — the command line, the environment or a YAML file — each
/// already parsed, each `nil` when that source did not mention it.
///
/// Build one per source, combine them with ``overridden(by:)`` (flags over the environment over
/// the file; ``ConfigurationLayers`` does it and remembers where each value came from), then
/// validate the result with ``NodeConfiguration/init(_:hostname:)``.
///
/// A field per setting, in catalogue order; the catalogue (``ConfigurationKey/descriptor``) names
/// the field each key fills, so nothing here switches over keys.
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
    public var priority: UInt16?
    public var preemptAfter: Duration?
    public var advertiseHTTP: String?
    public var resignHoldOff: Duration?
    public var leaseRelease: LeaseRelease?
    public var leaseDuration: Duration?
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
    public var idFromHostname: Bool?
    public var members: Int?
    public var peerAddressTemplate: PeerAddressTemplate?
    public var logLevel: Logger.Level?
    public var logFormat: LogFormat?
    public var events: Bool?
    /// The configuration file named by a flag or the environment.
    public var config: String?

    /// Settings with the given values, everything else unset. (A new setting need not be added
    /// here: its field starts unset.)
    public init(
        id: NodeID? = nil, listen: SocketAddressSpec? = nil, http: SocketAddressSpec? = nil,
        dataDirectory: String? = nil, cluster: ClusterName? = nil, electionTimeout: Duration? = nil,
        heartbeatInterval: Duration? = nil, maxFrameSize: Int? = nil, algorithm: ElectionAlgorithmKind? = nil,
        peers: [PeerAddress]? = nil, logLevel: Logger.Level? = nil, logFormat: LogFormat? = nil, events: Bool? = nil,
        adminHTTP: SocketAddressSpec? = nil, httpIdleTimeout: Duration? = nil,
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
        self.logLevel = logLevel
        self.logFormat = logFormat
        self.events = events
    }
}

extension NodeSettings {
    /// Records one command-line flag's text, e.g. `apply(flag: .electionTimeout, value: "1s")`.
    /// A repeatable setting (`.peers`) takes one item per call and appends it; any other replaces.
    /// Errors name the flag: `--election-timeout: "1x": unknown unit 'x'; use ms, s or m`.
    public mutating func apply(flag key: ConfigurationKey, value: String) throws(ConfigurationError) {
        do throws(ConfigurationError) {
            try key.descriptor.applyFlag(value, to: &self)
        } catch {
            throw .invalidSetting(.flag(key), error)
        }
    }

    /// Records one environment variable's text; a repeatable setting takes the whole
    /// comma-separated list. Errors name the variable: `BALLOT_ELECTION_TIMEOUT: "1x": …`.
    public mutating func apply(environment key: ConfigurationKey, value: String) throws(ConfigurationError) {
        do throws(ConfigurationError) {
            try key.descriptor.parse(value, into: &self)
        } catch {
            throw .invalidSetting(.environment(key), error)
        }
    }

    /// Whether this source gave `key`.
    public func contains(_ key: ConfigurationKey) -> Bool { key.descriptor.isSet(in: self) }

    /// The first setting given here that `backend` has no use for (``SettingDescriptor/backends``),
    /// e.g. `listen` with etcd: refused rather than silently ignored. An empty peer list gives no
    /// peer, so it is not counted.
    public func settingNotFor(backend: BackendKind) -> ConfigurationKey? {
        ConfigurationKey.allCases.first { key in
            contains(key) && !key.backends.contains(backend) && !(key == .peers && peers?.isEmpty == true)
        }
    }

    /// These settings with every setting `other` gives put in place of this one's.
    ///
    /// Peers are replaced as a whole, not merged by ID: once a higher layer gives any peer, the
    /// lower layer's list is ignored, so one source alone says who the members are.
    public func overridden(by other: NodeSettings) -> NodeSettings {
        var merged = self
        for key in ConfigurationKey.allCases { key.descriptor.copy(from: other, over: &merged) }
        return merged
    }
}
