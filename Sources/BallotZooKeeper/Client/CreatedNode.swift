/// A node this client created.
public struct CreatedNode: Hashable, Sendable {
    /// The node's path; for a sequential node, the requested path plus the server's counter.
    public var path: String
    public var stat: Stat
    /// The counter the server appended to a sequential node's name, else nil. Per parent, it
    /// counts the parent's child creations, so it only grows while the parent exists (and wraps
    /// after 2³¹ − 1). ``Stat/czxid`` grows across the whole ensemble's history.
    public var sequence: Int32?

    public init(path: String, stat: Stat, sequence: Int32?) {
        self.path = path
        self.stat = stat
        self.sequence = sequence
    }
}
