import BallotBackends

/// Every setting of a node, named once: the raw value is its YAML key, and its flag and its
/// environment variable are derived from that key, so the three spellings can never drift apart.
///
/// What each setting is — its kind of value, help text, default, secrecy and where it may come
/// from — is described in one place, ``descriptor`` (`SettingCatalogue.swift`); adding a setting
/// starts there (docs/configuration.md, "Adding a setting").
public enum ConfigurationKey: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    case id
    case listen
    case http
    case dataDirectory = "data_dir"
    case cluster
    case electionTimeout = "election_timeout"
    case heartbeatInterval = "heartbeat_interval"
    case maxFrameSize = "max_frame_size"
    case algorithm
    case peers
    case peerTLSCertificate = "peer_tls_cert"
    case peerTLSKey = "peer_tls_key"
    case peerTLSCA = "peer_tls_ca"
    case clusterSecretFile = "cluster_secret_file"
    case clusterSecretAlsoAccept = "cluster_secret_also_accept"
    case insecurePeers = "insecure_peers"
    case peerHandshakeTimeout = "peer_handshake_timeout"
    case peerMaxPendingHandshakes = "peer_max_pending_handshakes"
    /// Issue 15: preferred leaders, the leader's advertised HTTP URL, resignation.
    case priority
    case preemptAfter = "preempt_after"
    case advertiseHTTP = "advertise_http"
    case resignHoldOff = "resign_hold_off"
    case leaseRelease = "lease_release"
    case leaseDuration = "lease_duration"
    // Election backends (docs/configuration.md, "Backends").
    case backend
    case election
    case etcdEndpoints = "etcd_endpoints"
    case leaseTTL = "lease_ttl"
    case etcdCredentialsFile = "etcd_credentials_file"
    case etcdCAFile = "etcd_ca_file"
    case etcdCertFile = "etcd_cert_file"
    case etcdKeyFile = "etcd_key_file"
    case zookeeper
    case sessionTimeout = "session_timeout"
    case zookeeperFollowerLag = "zookeeper_follower_lag"
    case adminHTTP = "admin_http"
    case httpIdleTimeout = "http_idle_timeout"
    case httpRequestTimeout = "http_request_timeout"
    case httpMaxHeadSize = "http_max_head_size"
    case httpMaxConnections = "http_max_connections"
    case httpMaxStreams = "http_max_streams"
    case httpTLSCert = "http_tls_cert"
    case httpTLSKey = "http_tls_key"
    case httpTLSClientCA = "http_tls_client_ca"
    case httpTokenFile = "http_token_file"
    case httpAuthReads = "http_auth_reads"
    case idFromHostname = "id_from_hostname"
    case members
    case peerAddressTemplate = "peer_address_template"
    case logLevel = "log_level"
    case logFormat = "log_format"
    case events
    /// The configuration file itself: a flag or an environment variable, never a file key.
    case config

    public var yamlKey: String { rawValue }

    /// The key with `-` for `_`; peers are given one at a time, so their flag is the singular `--peer`.
    public var flag: String {
        switch self {
        case .peers: "--peer"
        default: "--" + rawValue.replacing("_", with: "-")
        }
    }

    /// `BALLOT_` and the key in capitals: `BALLOT_ELECTION_TIMEOUT`, `BALLOT_PEERS`.
    public var environmentVariable: String { Self.environmentPrefix + rawValue.uppercased() }

    /// The prefix every Ballot environment variable shares.
    public static let environmentPrefix = "BALLOT_"

    /// The key whose environment variable is `name`, if any.
    public init?(environmentVariable name: String) {
        guard name.hasPrefix(Self.environmentPrefix), name == name.uppercased() else { return nil }
        self.init(rawValue: String(name.dropFirst(Self.environmentPrefix.count)).lowercased())
    }

    /// What the setting is, in words, for messages.
    public var displayName: String { descriptor.displayName }

    public var description: String { yamlKey }

    /// The backends the setting applies to (``SettingDescriptor/backends``); given with another
    /// backend, it is refused.
    public var backends: Set<BackendKind> { descriptor.backends }

    /// The keys a configuration file may set, in catalogue order.
    public static var fileKeys: [ConfigurationKey] { allCases.filter { $0.descriptor.sources.contains(.file) } }
}

/// Where a setting's value came from, so that an error points at what the user actually wrote.
public enum SettingOrigin: Hashable, Sendable, CustomStringConvertible {
    /// A command-line flag.
    case flag(ConfigurationKey)
    /// An environment variable, `BALLOT_…`.
    case environment(ConfigurationKey)
    /// A key of a YAML configuration file; `path` is `nil` for YAML text that came from no file.
    case file(ConfigurationKey, path: String?)

    public var key: ConfigurationKey {
        switch self {
        case .flag(let key), .environment(let key), .file(let key, _): key
        }
    }

    public var description: String {
        switch self {
        case .flag(let key): key.flag
        case .environment(let key): key.environmentVariable
        case .file(let key, let path?): "\(key.yamlKey) in \(path)"
        case .file(let key, nil): "YAML key \(key.yamlKey)"
        }
    }
}
