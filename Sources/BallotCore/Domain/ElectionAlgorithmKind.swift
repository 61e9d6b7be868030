/// The election algorithm a node runs. Nodes running different algorithms never talk.
public enum ElectionAlgorithmKind: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    case raft
    case bully
    case ring

    public var description: String { rawValue }
}
