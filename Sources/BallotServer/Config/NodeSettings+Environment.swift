extension NodeSettings {
    /// The settings the environment gives: `BALLOT_<KEY>` for each setting that may come from it.
    ///
    /// An empty variable counts as unset (so `BALLOT_HTTP=` in a template leaves the file's value
    /// in force). Repeatable settings take a comma-separated list (`BALLOT_PEERS=2=h:7002,3=h:7003`);
    /// booleans `true` or `false`. Errors name the variable.
    public init(environment: [String: String]) throws(ConfigurationError) {
        self.init()
        for key in ConfigurationKey.allCases where key.descriptor.sources.contains(.environment) {
            guard let value = environment[key.environmentVariable], !value.isEmpty else { continue }
            try apply(environment: key, value: value)
        }
    }

    /// Warnings for `BALLOT_*` variables that are no setting but look like a misspelt one, e.g.
    /// `BALLOT_ELECTION_TIMOUT`. Others are left alone: the harness, the build scripts and
    /// `ballot run` set `BALLOT_*` variables of their own.
    public static func environmentWarnings(_ environment: [String: String]) -> [ConfigurationWarning] {
        environment.keys.sorted().compactMap { name in
            guard name.hasPrefix(ConfigurationKey.environmentPrefix), ConfigurationKey(environmentVariable: name) == nil
            else { return nil }
            let rest = String(name.dropFirst(ConfigurationKey.environmentPrefix.count)).lowercased()
                .replacing("-", with: "_")
            let candidates = ConfigurationKey.allCases.filter { $0.descriptor.sources.contains(.environment) }
            if let exact = candidates.first(where: { $0.yamlKey == rest }) {
                return .misspeltVariable(name, suggestion: exact)
            }
            let scored = candidates.map { ($0, editDistance(rest, $0.yamlKey)) }
            guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 2 else { return nil }
            return .misspeltVariable(name, suggestion: best.0)
        }
    }
}

/// Something in the configuration that does not stop the node but is probably a mistake.
public enum ConfigurationWarning: Hashable, Sendable, CustomStringConvertible {
    /// A `BALLOT_*` variable that is no setting but close to one.
    case misspeltVariable(String, suggestion: ConfigurationKey)

    public var description: String {
        switch self {
        case .misspeltVariable(let name, let key):
            "environment variable \(name) is not a Ballot setting and is ignored; did you mean \(key.environmentVariable)?"
        }
    }
}
