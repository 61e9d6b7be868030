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
    /// Issue 15: preferred leaders and the leader's advertised HTTP URL.
    case priority
    case preemptAfter = "preempt_after"
    case advertiseHTTP = "advertise_http"

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
        case .priority: "--priority"
        case .preemptAfter: "--preempt-after"
        case .advertiseHTTP: "--advertise-http"
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
        case .priority: "leadership priority"
        case .preemptAfter: "preemption window"
        case .advertiseHTTP: "advertised HTTP URL"
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
