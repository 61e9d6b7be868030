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
        case .adminHTTP: "--admin-http"
        case .httpIdleTimeout: "--http-idle-timeout"
        case .httpRequestTimeout: "--http-request-timeout"
        case .httpMaxHeadSize: "--http-max-head-size"
        case .httpMaxConnections: "--http-max-connections"
        case .httpMaxStreams: "--http-max-streams"
        case .httpTLSCert: "--http-tls-cert"
        case .httpTLSKey: "--http-tls-key"
        case .httpTLSClientCA: "--http-tls-client-ca"
        case .httpTokenFile: "--http-token-file"
        case .httpAuthReads: "--http-auth-reads"
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
        case .adminHTTP: "admin HTTP address"
        case .httpIdleTimeout: "HTTP idle timeout"
        case .httpRequestTimeout: "HTTP request timeout"
        case .httpMaxHeadSize: "largest HTTP request head"
        case .httpMaxConnections: "HTTP connection cap"
        case .httpMaxStreams: "HTTP/2 stream cap"
        case .httpTLSCert: "HTTP TLS certificate"
        case .httpTLSKey: "HTTP TLS private key"
        case .httpTLSClientCA: "HTTP client CA"
        case .httpTokenFile: "HTTP bearer token file"
        case .httpAuthReads: "HTTP authorization of reads"
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
