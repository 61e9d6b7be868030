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
/// peers:
///   2: 127.0.0.1:7002
///   3: 127.0.0.1:7003
/// http_tls_cert: /etc/ballot/http.pem
/// http_tls_key: /etc/ballot/http-key.pem
/// http_token_file: /etc/ballot/http-token
/// log_format: json
/// ```
///
/// Unknown keys are errors, so that a misspelt key cannot silently leave a default in force. How
/// each key's value is read is its kind's business (``SettingKind``): integers must be YAML
/// integers, durations strings with a unit (a bare `1000` is refused rather than guessed at),
/// booleans YAML booleans; addresses, names and paths are taken as written.
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
        if let complex = YAMLKeyGuard.firstComplexKey(in: yaml) {
            throw .malformedYAML(path: path, detail: "line \(complex.line): \(complex.what) is not supported; every key is a setting name")
        }
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
            let name = keyNode.scalar?.string ?? YAMLValue.describe(keyNode)
            guard let key = ConfigurationKey(rawValue: name) else {
                throw .unknownKey(name, path: path, suggestion: Self.suggestion(for: name))
            }
            guard key.descriptor.sources.contains(.file) else { throw .notAFileSetting(key, path: path) }
            do throws(ConfigurationError) {
                try key.descriptor.readYAML(value, into: &self)
            } catch {
                throw .invalidSetting(.file(key, path: path), error)
            }
        }
    }

    /// The known key an unknown one was probably meant to be: same letters with `-` for `_` or in
    /// another case, or at most two edits away.
    static func suggestion(for key: String) -> ConfigurationKey? {
        let normalized = key.lowercased().replacing("-", with: "_")
        if let exact = ConfigurationKey(rawValue: normalized) { return exact }
        let scored = ConfigurationKey.fileKeys.map { ($0, editDistance(normalized, $0.yamlKey)) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 2 else { return nil }
        return best.0
    }

    /// Levenshtein distance over characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
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
