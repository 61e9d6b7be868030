/// Precedes every request after the connect request: who (xid) and what (type).
public struct RequestHeader: Hashable, Sendable {
    public var xid: Int32
    public var type: OperationCode

    public init(xid: Int32, type: OperationCode) {
        self.xid = xid
        self.type = type
    }

    public func encode(into writer: inout JuteWriter) {
        writer.writeInt(xid)
        writer.writeInt(type.rawValue)
    }
}

/// Precedes every frame from the server after the connect response: which request it answers
/// (or ``ReservedXid/notification``), the zxid the server had reached, and the outcome.
public struct ReplyHeader: Hashable, Sendable {
    public var xid: Int32
    /// The server's last zxid when it answered; -1 on a notification.
    public var zxid: Int64
    public var error: ZooKeeperErrorCode

    public init(xid: Int32, zxid: Int64, error: ZooKeeperErrorCode) {
        self.xid = xid
        self.zxid = zxid
        self.error = error
    }

    public static func decode(from reader: inout JuteReader) throws(ZooKeeperProtocolError) -> ReplyHeader {
        ReplyHeader(
            xid: try reader.readInt(JuteField("ReplyHeader", "xid")),
            zxid: try reader.readLong(JuteField("ReplyHeader", "zxid")),
            error: ZooKeeperErrorCode(rawValue: try reader.readInt(JuteField("ReplyHeader", "err")))
        )
    }

    public func encode(into writer: inout JuteWriter) {
        writer.writeInt(xid)
        writer.writeLong(zxid)
        writer.writeInt(error.rawValue)
    }
}
