import BallotClient
import BallotCore
import Yams

/// The YAML configuration file: one mapping whose keys are ``ConfigurationKey`` raw values.
///
/// ```yaml
/// id: 1
/// listen: 127.0.0.1:7001
/// http: 127.0.0.1:8001
/// data_dir: /var/lib/ballot/1
/// cluster: ballot
/// election_timeout: 1s
/// heartbeat_interval: 100ms
/// max_frame_size: 65536
/// algorithm: raft
/// peers:
///   2: 127.0.0.1:7002
///   3: 127.0.0.1:7003
/// peer_tls_cert: /etc/ballot/node-1.pem
/// peer_tls_key: /etc/ballot/node-1-key.pem
/// peer_tls_ca: /etc/ballot/ca.pem
/// cluster_secret_file: /etc/ballot/cluster.secret
/// ```
///
/// Unknown keys are errors, so that a misspelt key cannot silently leave a default in force.
/// Integers (`id`, `max_frame_size`) must be YAML integers; durations must be strings with a unit
/// (a bare `1000` is refused rather than guessed at); addresses, names and paths are taken as
/// written.
extension NodeSettings {
    /// Configuration files larger than this are refused unread.
    public static let maximumConfigurationFileSize = 1 << 20

    /// Reads and parses a YAML configuration file.
    public init(contentsOfFile path: String) throws(ConfigurationError) {
        let contents: [UInt8]?
        do throws(SystemCallError) {
            contents = try FileSystem.readFileIfPresent(path, limit: Self.maximumConfigurationFileSize)
        } catch {
            throw .unreadableConfigurationFile(path: path, reason: error.reason)
        }
        guard let bytes = contents else { throw .unreadableConfigurationFile(path: path, reason: "no such file") }
        guard bytes.count <= Self.maximumConfigurationFileSize else {
            throw .unreadableConfigurationFile(
                path: path, reason: "larger than \(Self.maximumConfigurationFileSize) bytes; is this the right file?")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .malformedYAML(path: path, detail: "the file is not UTF-8 text")
        }
        try self.init(yaml: text, path: path)
    }

    /// Parses YAML configuration text; `path` only names the source in error messages.
    public init(yaml: String, path: String? = nil) throws(ConfigurationError) {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw .malformedYAML(path: path, detail: String(describing: error))
        }
        self.init()
        guard let root else { return }  // An empty file sets nothing.
        guard case .mapping(let mapping) = root else { throw .configurationNotAMapping(path: path) }
        for (keyNode, value) in mapping {
            let name = keyNode.scalar?.string ?? Self.describe(keyNode)
            guard let key = ConfigurationKey(rawValue: name) else {
                throw .unknownKey(name, path: path, suggestion: Self.suggestion(for: name))
            }
            do throws(ConfigurationError) {
                try apply(key, yaml: value)
            } catch {
                throw .invalidSetting(.file(key, path: path), error)
            }
        }
    }

    private mutating func apply(_ key: ConfigurationKey, yaml value: Node) throws(ConfigurationError) {
        switch key {
        case .id:
            id = try NodeID(parsing: Self.integerText(value, expected: "a node ID (a positive whole number)"))
        case .maxFrameSize:
            maxFrameSize = try Self.parseInteger(Self.integerText(value, expected: "a whole number of bytes"))
        case .electionTimeout, .heartbeatInterval:
            try apply(key, text: Self.durationText(value))
        case .listen, .http:
            try apply(key, text: Self.plainText(value, expected: "an address such as 127.0.0.1:7001"))
        case .dataDirectory:
            try apply(key, text: Self.plainText(value, expected: "a directory path"))
        case .cluster:
            try apply(key, text: Self.plainText(value, expected: "a cluster name"))
        case .algorithm:
            try apply(key, text: Self.plainText(value, expected: "raft, bully or ring"))
        case .peers:
            guard case .mapping(let mapping) = value else {
                throw .wrongType(
                    expected: "a mapping of node IDs to addresses, e.g. {2: \"127.0.0.1:7002\"}",
                    found: Self.describe(value))
            }
            var list: [PeerAddress] = []
            for (idNode, addressNode) in mapping {
                let idText = try Self.plainText(idNode, expected: "a node ID as the key")
                let id = try NodeID(parsing: idText)
                let addressText = try Self.plainText(
                    addressNode, expected: "the address of peer \(idText), e.g. \"127.0.0.1:7002\"")
                list.append(PeerAddress(id: id, address: try SocketAddressSpec(parsing: addressText)))
            }
            peers = list
        case .peerTLSCertificate, .peerTLSKey, .peerTLSCA, .clusterSecretFile:
            try apply(key, text: Self.plainText(value, expected: "a file path"))
        case .clusterSecretAlsoAccept:
            guard case .sequence(let sequence) = value else {
                throw .wrongType(expected: "a list of file paths", found: Self.describe(value))
            }
            clusterSecretAlsoAccept = []
            for item in sequence { try apply(key, text: Self.plainText(item, expected: "a file path")) }
        case .insecurePeers:
            guard case .scalar(let scalar) = value, Self.tagName(value) == .bool else {
                throw .wrongType(expected: "true or false", found: Self.describe(value))
            }
            insecurePeers = Bool.construct(from: scalar) ?? false
        case .peerHandshakeTimeout:
            try apply(key, text: Self.durationText(value))
        case .peerMaxPendingHandshakes:
            peerMaxPendingHandshakes = try Self.parseInteger(Self.integerText(value, expected: "a whole number of connections"))
        }
    }

    // MARK: - Kinds of value

    private static func tagName(_ node: Node) -> Tag.Name { Tag.Name(rawValue: node.tag.rawValue) }

    /// A YAML integer's text, e.g. `1`.
    private static func integerText(_ node: Node, expected: String) throws(ConfigurationError) -> String {
        guard case .scalar(let scalar) = node, tagName(node) == .int else {
            throw .wrongType(expected: expected, found: describe(node))
        }
        return scalar.string
    }

    /// A duration must be text with a unit; a bare number is refused rather than guessed at.
    private static func durationText(_ node: Node) throws(ConfigurationError) -> String {
        guard case .scalar(let scalar) = node, tagName(node) == .str else {
            throw .wrongType(expected: "a duration with a unit, such as 1s or 500ms", found: describe(node))
        }
        return scalar.string
    }

    /// Any scalar that is not null or a boolean, as written: `cluster: 2024` is the name "2024".
    private static func plainText(_ node: Node, expected: String) throws(ConfigurationError) -> String {
        guard case .scalar(let scalar) = node, tagName(node) != .null, tagName(node) != .bool else {
            throw .wrongType(expected: expected, found: describe(node))
        }
        return scalar.string
    }

    /// What a node is, for "expected …, found …" messages.
    static func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar):
            switch tagName(node) {
            case .null: "nothing (null)"
            case .bool: "the boolean \(scalar.string)"
            case .int: "the integer \(scalar.string)"
            case .float: "the number \(scalar.string)"
            default: "the text \"\(scalar.string)\""
            }
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    /// The known key an unknown one was probably meant to be: same letters with `-` for `_` or in
    /// another case, or at most two edits away.
    static func suggestion(for key: String) -> ConfigurationKey? {
        let normalized = key.lowercased().replacing("-", with: "_")
        if let exact = ConfigurationKey(rawValue: normalized) { return exact }
        let scored = ConfigurationKey.allCases.map { ($0, editDistance(normalized, $0.yamlKey)) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 2 else { return nil }
        return best.0
    }

    /// Levenshtein distance over characters.
    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            previous = current
        }
        return previous[b.count]
    }
}
