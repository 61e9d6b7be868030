/// The election algorithm a node runs. Only Raft has a runtime today; Bully and Ring are accepted
/// so that configurations can name them once their state machines join the core.
public enum ElectionAlgorithmKind: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    case raft
    case bully
    case ring

    /// Parses the lower-case name, e.g. `raft`.
    public init(parsing text: String) throws(ConfigurationError) {
        guard let kind = ElectionAlgorithmKind(rawValue: text) else { throw .unknownAlgorithm(text) }
        self = kind
    }

    public var description: String { rawValue }
}
