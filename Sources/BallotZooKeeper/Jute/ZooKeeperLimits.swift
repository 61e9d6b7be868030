/// Upper bounds on what a server may send, checked before anything is read or allocated.
///
/// Every length on the wire comes from the other side of the connection. The decoder compares it
/// with these limits and with the bytes actually left in the frame before it allocates, so a
/// hostile or broken server costs at most one frame of memory and then the connection.
public struct ZooKeeperLimits: Hashable, Sendable {
    /// The largest frame (length prefix excluded) accepted from the server, and the largest request
    /// this client sends. 1 MiB by default, ZooKeeper's own `jute.maxbuffer` default.
    public var maxFrameLength: Int
    /// The largest string (a path, a child's name, an ACL scheme or id) in bytes.
    public var maxStringLength: Int
    /// The largest byte buffer (node data, session password).
    public var maxBufferLength: Int
    /// The most elements in one vector (the children of one node).
    public var maxVectorCount: Int

    public init(maxFrameLength: Int = 1 << 20, maxStringLength: Int = 1 << 16,
                maxBufferLength: Int = 1 << 20, maxVectorCount: Int = 1 << 18) {
        self.maxFrameLength = maxFrameLength
        self.maxStringLength = maxStringLength
        self.maxBufferLength = maxBufferLength
        self.maxVectorCount = maxVectorCount
    }

    public static let `default` = ZooKeeperLimits()
}
