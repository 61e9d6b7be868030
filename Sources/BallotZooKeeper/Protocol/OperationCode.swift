/// The request types this client sends (`ZooDefs.OpCode`), the `type` of a ``RequestHeader``.
public enum OperationCode: Int32, Hashable, Sendable, CaseIterable {
    case delete = 2
    case exists = 3
    case getData = 4
    case getChildren = 8
    case ping = 11
    /// `create2`: a create whose answer carries the new node's ``Stat`` (ZooKeeper 3.5 and later),
    /// so the creator learns the node's `czxid` without a second request.
    case create2 = 15
    case setWatches = 101
    case closeSession = -11
}

/// The xids ZooKeeper reserves. Ordinary requests use positive xids, counting up from 1.
public enum ReservedXid {
    /// A watch notification from the server.
    public static let notification: Int32 = -1
    /// A ping and its answer.
    public static let ping: Int32 = -2
    /// The re-registration of watches after a reconnect.
    public static let setWatches: Int32 = -8
}
