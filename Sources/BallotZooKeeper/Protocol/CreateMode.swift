/// How a node is created: the `flags` of a create request.
public enum CreateMode: Int32, Hashable, Sendable, CaseIterable {
    case persistent = 0
    /// Deleted by the server when the creating session ends (closed or expired).
    case ephemeral = 1
    /// The server appends a 10-digit counter to the name, unique among the parent's children.
    case persistentSequential = 2
    /// Both: the election recipe's candidate node.
    case ephemeralSequential = 3

    public var isEphemeral: Bool { self == .ephemeral || self == .ephemeralSequential }
    public var isSequential: Bool { self == .persistentSequential || self == .ephemeralSequential }
}
