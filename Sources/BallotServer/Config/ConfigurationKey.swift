import BallotBackends

/// Every setting of a node, with its YAML key and its command-line flag.
///
/// The YAML key is the raw value; the flag is the key with `-` for `_`, except that peers are
/// given one at a time with a repeatable `--peer ID=HOST:PORT`.
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

    public var yamlKey: String { rawValue }

    public var flag: String {
        switch self {
        case .id: "--id"
        case .listen: "--listen"
        case .http: "--http"
        case .dataDirectory: "--data-dir"
        case .cluster: "--cluster"
        case .electionTimeout: "--election-timeout"
        case .heartbeatInterval: "--heartbeat-interval"
        case .maxFrameSize: "--max-frame-size"
        case .algorithm: "--algorithm"
        case .peers: "--peer"
        case .backend: "--backend"
        case .election: "--election"
        case .etcdEndpoints: "--etcd-endpoints"
        case .leaseTTL: "--lease-ttl"
        case .etcdCredentialsFile: "--etcd-credentials-file"
        case .etcdCAFile: "--etcd-ca-file"
        case .etcdCertFile: "--etcd-cert-file"
        case .etcdKeyFile: "--etcd-key-file"
        case .zookeeper: "--zookeeper"
        case .sessionTimeout: "--session-timeout"
        case .zookeeperFollowerLag: "--zookeeper-follower-lag"
        }
    }

    /// What the setting is, in words, for messages.
    public var displayName: String {
        switch self {
        case .id: "node ID"
        case .listen: "peer listen address"
        case .http: "HTTP address"
        case .dataDirectory: "data directory"
        case .cluster: "cluster name"
        case .electionTimeout: "election timeout"
        case .heartbeatInterval: "heartbeat interval"
        case .maxFrameSize: "max frame size"
        case .algorithm: "election algorithm"
        case .peers: "peers"
        case .backend: "election backend"
        case .election: "election name"
        case .etcdEndpoints: "etcd endpoints"
        case .leaseTTL: "etcd lease TTL"
        case .etcdCredentialsFile: "etcd credentials file"
        case .etcdCAFile: "etcd CA file"
        case .etcdCertFile: "etcd client certificate file"
        case .etcdKeyFile: "etcd client key file"
        case .zookeeper: "ZooKeeper servers"
        case .sessionTimeout: "ZooKeeper session timeout"
        case .zookeeperFollowerLag: "ZooKeeper follower lag"
        }
    }

    /// The backends a setting applies to: peers and Raft timing only to the built-in one, each
    /// backend's own settings only to it. A setting given for another backend is refused.
    public var backends: Set<BackendKind> {
        switch self {
        case .id, .http, .dataDirectory, .cluster, .backend: Set(BackendKind.allCases)
        case .listen, .peers, .electionTimeout, .heartbeatInterval, .maxFrameSize, .algorithm: [.raft]
        case .election: [.etcd, .zookeeper]
        case .etcdEndpoints, .leaseTTL, .etcdCredentialsFile, .etcdCAFile, .etcdCertFile, .etcdKeyFile: [.etcd]
        case .zookeeper, .sessionTimeout, .zookeeperFollowerLag: [.zookeeper]
        }
    }

    public var description: String { yamlKey }
}

/// Where a setting's value came from, so that an error points at what the user actually wrote.
public enum SettingOrigin: Hashable, Sendable, CustomStringConvertible {
    /// A command-line flag.
    case flag(ConfigurationKey)
    /// A key of a YAML configuration file; `path` is `nil` for YAML text that came from no file.
    case file(ConfigurationKey, path: String?)

    public var key: ConfigurationKey {
        switch self {
        case .flag(let key), .file(let key, _): key
        }
    }

    public var description: String {
        switch self {
        case .flag(let key): key.flag
        case .file(let key, let path?): "\(key.yamlKey) in \(path)"
        case .file(let key, nil): "YAML key \(key.yamlKey)"
        }
    }
}
