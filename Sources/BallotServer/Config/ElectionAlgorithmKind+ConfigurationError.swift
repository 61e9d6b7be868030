import BallotCore

extension ElectionAlgorithmKind {
    /// Parses the lower-case name, e.g. `raft`.
    public init(parsing text: String) throws(ConfigurationError) {
        guard let kind = ElectionAlgorithmKind(rawValue: text) else { throw .unknownAlgorithm(text) }
        self = kind
    }
}
