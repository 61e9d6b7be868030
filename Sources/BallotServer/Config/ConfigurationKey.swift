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
    case peerTLSCertificate = "peer_tls_cert"
    case peerTLSKey = "peer_tls_key"
    case peerTLSCA = "peer_tls_ca"
    case clusterSecretFile = "cluster_secret_file"
    case clusterSecretAlsoAccept = "cluster_secret_also_accept"
    case insecurePeers = "insecure_peers"
    case peerHandshakeTimeout = "peer_handshake_timeout"
    case peerMaxPendingHandshakes = "peer_max_pending_handshakes"

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
        case .peerTLSCertificate: "--peer-tls-cert"
        case .peerTLSKey: "--peer-tls-key"
        case .peerTLSCA: "--peer-tls-ca"
        case .clusterSecretFile: "--cluster-secret-file"
        case .clusterSecretAlsoAccept: "--cluster-secret-also-accept"
        case .insecurePeers: "--insecure-peers"
        case .peerHandshakeTimeout: "--peer-handshake-timeout"
        case .peerMaxPendingHandshakes: "--peer-max-pending-handshakes"
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
        case .peerTLSCertificate: "peer TLS certificate"
        case .peerTLSKey: "peer TLS private key"
        case .peerTLSCA: "peer TLS CA certificate"
        case .clusterSecretFile: "cluster secret file"
        case .clusterSecretAlsoAccept: "further accepted cluster secret files"
        case .insecurePeers: "unauthenticated peers off loopback"
        case .peerHandshakeTimeout: "peer handshake deadline"
        case .peerMaxPendingHandshakes: "cap on peer connections still handshaking"
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
