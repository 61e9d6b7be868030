/// The first frame on every connection: open a new session (`sessionID` 0) or resume one.
///
/// On the wire: the jute record `ConnectRequest` (protocolVersion, lastZxidSeen, timeOut,
/// sessionId, passwd), then the `readOnly` byte that servers since 3.4 read when it is there.
public struct ConnectRequest: Hashable, Sendable {
    public var protocolVersion: Int32
    /// The highest zxid this client has seen: a server that has not caught up that far refuses the
    /// session (closes the connection), so a client never goes back in time by reconnecting.
    public var lastZxidSeen: Int64
    /// The session timeout the client asks for, in milliseconds; the server clamps it.
    public var timeoutMilliseconds: Int32
    public var sessionID: Int64
    /// The session's password (16 bytes from the server; 16 zero bytes for a new session).
    public var password: [UInt8]
    /// Whether the client accepts a server that has lost its quorum (read-only mode).
    public var readOnly: Bool

    public init(protocolVersion: Int32 = 0, lastZxidSeen: Int64, timeoutMilliseconds: Int32, sessionID: Int64,
                password: [UInt8], readOnly: Bool = false) {
        self.protocolVersion = protocolVersion
        self.lastZxidSeen = lastZxidSeen
        self.timeoutMilliseconds = timeoutMilliseconds
        self.sessionID = sessionID
        self.password = password
        self.readOnly = readOnly
    }

    public func encode(into writer: inout JuteWriter) {
        writer.writeInt(protocolVersion)
        writer.writeLong(lastZxidSeen)
        writer.writeInt(timeoutMilliseconds)
        writer.writeLong(sessionID)
        writer.writeBuffer(password)
        writer.writeBool(readOnly)
    }
}

/// The server's answer to a ``ConnectRequest``: the session and its negotiated timeout. A timeout
/// of 0 or less means the session asked for has expired (the server then closes the connection).
public struct ConnectResponse: Hashable, Sendable {
    public var protocolVersion: Int32
    public var timeoutMilliseconds: Int32
    public var sessionID: Int64
    public var password: [UInt8]
    /// Whether the server is in read-only mode. Servers before 3.4 did not send it (read as false).
    public var readOnly: Bool

    public init(protocolVersion: Int32 = 0, timeoutMilliseconds: Int32, sessionID: Int64, password: [UInt8], readOnly: Bool = false) {
        self.protocolVersion = protocolVersion
        self.timeoutMilliseconds = timeoutMilliseconds
        self.sessionID = sessionID
        self.password = password
        self.readOnly = readOnly
    }

    /// Whether the server refused the session because it expired.
    public var isExpired: Bool { timeoutMilliseconds <= 0 }

    public static func decode(from reader: inout JuteReader) throws(ZooKeeperProtocolError) -> ConnectResponse {
        func field(_ name: String) -> JuteField { JuteField("ConnectResponse", name) }
        let response = ConnectResponse(
            protocolVersion: try reader.readInt(field("protocolVersion")),
            timeoutMilliseconds: try reader.readInt(field("timeOut")),
            sessionID: try reader.readLong(field("sessionId")),
            password: try reader.readBuffer(field("passwd")),
            readOnly: reader.remaining == 0 ? false : try reader.readBool(field("readOnly"))
        )
        try reader.finish("ConnectResponse")
        return response
    }

    public func encode(into writer: inout JuteWriter) {
        writer.writeInt(protocolVersion)
        writer.writeInt(timeoutMilliseconds)
        writer.writeLong(sessionID)
        writer.writeBuffer(password)
        writer.writeBool(readOnly)
    }
}
