/// What a node is doing in the election protocol. Bully and Ring map their states onto these.
public enum Role: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case follower
    /// Raft thesis §9.6: probing whether an election could be won, without raising the term.
    case preCandidate = "pre_candidate"
    case candidate
    case leader

    public var description: String { rawValue }
}
