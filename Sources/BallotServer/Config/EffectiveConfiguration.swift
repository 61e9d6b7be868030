import Yams

/// `--print-config`: the effective value of every setting and where it came from, as YAML with
/// the origin in a comment on each line. Secrets print as `<redacted>` (``SettingDescriptor/isSecret``).
///
/// ```yaml
/// # Effective configuration of ballotd (precedence: flag > environment > file > default)
/// # config: /etc/ballot/ballotd.yaml  (BALLOT_CONFIG)
/// id: 2                     # derived from the hostname ballot-1 (id_from_hostname)
/// listen: 0.0.0.0:7001      # /etc/ballot/ballotd.yaml
/// election_timeout: 1s      # default
/// ```
extension ConfigurationLayers {
    /// The printout, and the validation error if the configuration does not make a working node
    /// (the values are printed anyway, so that the printout shows what is wrong).
    public func printout(
        hostname: () throws(ConfigurationError) -> String = HostName.current
    ) -> (text: String, error: ConfigurationError?) {
        let resolved: NodeConfiguration?
        let error: ConfigurationError?
        do throws(ConfigurationError) {
            resolved = try configuration(hostname: hostname)
            error = nil
        } catch let caught {
            resolved = nil
            error = caught
        }
        var lines = ["# Effective configuration of \(program.name) (precedence: flag > environment > file > default)"]
        if let filePath {
            lines.append("# config: \(filePath)  (\(comment(for: .config, derived: nil)))")
        } else {
            lines.append("# config: none (no \(ConfigurationKey.config.flag), no \(ConfigurationKey.config.environmentVariable))")
        }
        lines += warnings.map { "# warning: \($0)" }
        let effective = resolved.map { merged.overridden(by: $0.effectiveSettings) } ?? merged
        var rows: [(text: String, comment: String, continuation: [String])] = []
        for key in ConfigurationKey.allCases where key != .config {
            let descriptor = key.descriptor
            if key == .algorithm, !program.offersAlgorithmChoice, source(of: key) == .none { continue }
            // Only the settings of the backend in force, unless another one's was given (an error, shown).
            if !descriptor.backends.contains(effective.backend ?? .raft), source(of: key) == .none { continue }
            guard let value = descriptor.printed(in: effective) ?? descriptor.printedDefault else {
                let fallback = descriptor.defaultText.map { " (default: \($0))" } ?? ""
                rows.append(("# \(key.yamlKey): not set\(fallback)", "", []))
                continue
            }
            let derived = resolved.flatMap { derivation(of: key, in: $0) }
            let comment = comment(for: key, derived: derived)
            switch value {
            case .text(let text):
                rows.append(("\(key.yamlKey): \(Self.yamlScalar(text))", comment, []))
            case .literal(let text):
                rows.append(("\(key.yamlKey): \(text)", comment, []))
            case .mapping(let entries) where entries.isEmpty:
                rows.append(("\(key.yamlKey): {}", comment, []))
            case .mapping(let entries):
                rows.append(("\(key.yamlKey):", comment, entries.map { "  \($0.key): \(Self.yamlScalar($0.value))" }))
            case .list(let items) where items.isEmpty:
                rows.append(("\(key.yamlKey): []", comment, []))
            case .list(let items):
                rows.append(("\(key.yamlKey):", comment, items.map { "  - \(Self.yamlScalar($0))" }))
            }
        }
        let width = min(rows.filter { !$0.comment.isEmpty }.map(\.text.count).max() ?? 0, 48)
        for row in rows {
            if row.comment.isEmpty {
                lines.append(row.text)
            } else {
                let padding = String(repeating: " ", count: max(width - row.text.count, 0))
                lines.append("\(row.text)\(padding)  # \(row.comment)")
            }
            lines += row.continuation
        }
        return (lines.joined(separator: "\n") + "\n", error)
    }

    /// The origin comment: the flag, the variable, the file, a derivation or the default.
    private func comment(for key: ConfigurationKey, derived: String?) -> String {
        switch source(of: key) {
        case .flag: key.flag
        case .environment: key.environmentVariable
        case .file(let path): path ?? "file"
        case .none: derived ?? "default"
        }
    }

    /// How a value that no layer gave was worked out from others, if it was.
    private func derivation(of key: ConfigurationKey, in configuration: NodeConfiguration) -> String? {
        let settings = merged
        switch key {
        case .id where settings.idFromHostname == true:
            let hostname = (try? HostName.current()) ?? "?"
            return "derived from the hostname \(hostname) (\(ConfigurationKey.idFromHostname.yamlKey))"
        case .peers where settings.members != nil:
            return "derived from \(ConfigurationKey.members.yamlKey) and \(ConfigurationKey.peerAddressTemplate.yamlKey)"
        default:
            return nil
        }
    }

    /// `text` as a YAML scalar that reads back as the same string: plain where that is safe,
    /// double-quoted otherwise (`"[::1]:7001"`, `"true"`, `"2024"`).
    static func yamlScalar(_ text: String) -> String {
        if !text.isEmpty, !text.contains("\""), !text.contains("\\"),
           let node = try? Yams.compose(yaml: "v: " + text), case .mapping(let mapping) = node,
           let value = mapping["v"], case .scalar(let scalar) = value, scalar.string == text,
           YAMLValue.tagName(value) == .str
        {
            return text
        }
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\t": quoted += "\\t"
            default:
                if scalar.value < 0x20 {
                    quoted += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                } else {
                    quoted.unicodeScalars.append(scalar)
                }
            }
        }
        return quoted + "\""
    }
}

extension SettingDescriptor {
    /// The default as a value, when the default text is one (`false`, `1s`; not `off` or `none`).
    var printedDefault: PrintedValue? {
        // "off" and "none" document a setting that is unset by default (its feature is off, its
        // list empty), not a value.
        guard let defaultText, defaultText != "off", defaultText != "none" else { return nil }
        var settings = NodeSettings()
        guard (try? parse(defaultText, into: &settings)) != nil else { return nil }
        return printed(in: settings)
    }
}

extension NodeConfiguration {
    /// This configuration as settings, every value filled in (defaults and derivations included).
    public var effectiveSettings: NodeSettings {
        var settings = NodeSettings(
            id: id, listen: listenAddress, http: httpAddress, dataDirectory: dataDirectory, cluster: cluster,
            electionTimeout: electionTimeout, heartbeatInterval: heartbeatInterval, maxFrameSize: maxFrameSize,
            algorithm: algorithm, peers: peers, logLevel: logLevel, logFormat: logFormat, events: printEvents,
            adminHTTP: http.adminAddress, httpIdleTimeout: http.limits.idleTimeout,
            httpRequestTimeout: http.limits.requestTimeout, httpMaxHeadSize: http.limits.maxHeadSize,
            httpMaxConnections: http.limits.maxConnections, httpMaxStreams: http.limits.maxStreams,
            httpTLSCert: http.tls?.certificate, httpTLSKey: http.tls?.key, httpTLSClientCA: http.tls?.clientCA,
            httpTokenFile: http.tokenFile, httpAuthReads: http.authorizeReads)
        settings.backend = backend.kind
        switch backend {
        case .raft:
            settings.peerTLSCertificate = peerTrust.tls?.certificate
            settings.peerTLSKey = peerTrust.tls?.key
            settings.peerTLSCA = peerTrust.tls?.ca
            settings.clusterSecretFile = peerTrust.clusterSecretFile
            settings.clusterSecretAlsoAccept = peerTrust.clusterSecretAlsoAccept
            settings.insecurePeers = peerTrust.insecurePeers
            settings.peerHandshakeTimeout = peerTrust.handshakeTimeout
            settings.peerMaxPendingHandshakes = peerTrust.maxPendingHandshakes
        case .etcd(let etcd):
            settings.election = etcd.election
            settings.etcdEndpoints = etcd.endpoints
            settings.leaseTTL = etcd.leaseTTL
            settings.etcdCredentialsFile = etcd.credentialsFile
            settings.etcdCAFile = etcd.tls.caFile
            settings.etcdCertFile = etcd.tls.certificateFile
            settings.etcdKeyFile = etcd.tls.keyFile
        case .zookeeper(let zookeeper):
            settings.election = zookeeper.election
            settings.zookeeper = zookeeper.servers
            settings.sessionTimeout = zookeeper.sessionTimeout
            settings.zookeeperFollowerLag = zookeeper.followerLag
        }
        return settings
    }
}
