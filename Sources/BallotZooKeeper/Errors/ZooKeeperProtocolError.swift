/// Bytes from a ZooKeeper server that this client refuses. Every case closes the connection: the
/// stream cannot be trusted past the first bad byte. The session itself may still be alive, so the
/// client goes on to the next server of the ensemble (see ``ZooKeeperConnectionError``).
///
/// Offsets count from the frame's first byte, i.e. the first byte of its 4-byte length prefix.
public enum ZooKeeperProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A frame's length prefix exceeds ``ZooKeeperLimits/maxFrameLength``.
    case frameTooLarge(declaredLength: Int, limit: Int)
    /// A field does not decode as the record the protocol expects at this point of the stream.
    case malformed(JuteField, offset: Int, Malformation)
    /// A reply whose xid is not that of the oldest unanswered request: ZooKeeper answers a session's
    /// requests in the order they were sent, so anything else means a broken stream.
    case unexpectedReply(xid: Int32, expected: Int32?)
    /// The server answered a reconnect of session `expected` with another live session. ZooKeeper
    /// answers an unknown session with timeout 0 (expired), so this is not a server to talk to.
    case sessionMismatch(expected: Int64, received: Int64)
    /// The connect response names a protocol version other than 0, the only one there is.
    case unsupportedProtocolVersion(Int32)

    public var description: String {
        switch self {
        case .frameTooLarge(let length, let limit):
            "frame length \(length) at offset 0 exceeds the limit of \(limit) bytes (ZooKeeperLimits.maxFrameLength)"
        case .malformed(let field, let offset, let problem):
            "malformed \(field) at offset \(offset): \(problem)"
        case .unexpectedReply(let xid, let expected):
            if let expected {
                "reply for xid \(xid) while the oldest unanswered request is xid \(expected)"
            } else {
                "reply for xid \(xid) while no request is outstanding"
            }
        case .sessionMismatch(let expected, let received):
            "reconnect of session 0x\(String(UInt64(bitPattern: expected), radix: 16)) was answered with session "
                + "0x\(String(UInt64(bitPattern: received), radix: 16))"
        case .unsupportedProtocolVersion(let version):
            "connect response has protocol version \(version); only version 0 exists"
        }
    }
}

/// A field of a jute record, named as ZooKeeper's `zookeeper.jute` names it (`Stat.czxid`).
public struct JuteField: Hashable, Sendable, CustomStringConvertible {
    public let record: String
    public let name: String

    public init(_ record: String, _ name: String) {
        self.record = record
        self.name = name
    }

    public var description: String { "\(record).\(name)" }
}

/// What exactly is wrong with a field.
public enum Malformation: Hashable, Sendable, CustomStringConvertible {
    /// The frame ended inside the field.
    case truncated(needed: Int, available: Int)
    /// A length below -1 (jute's "null"), or a negative frame length.
    case negativeLength(Int32)
    /// A length above what ``ZooKeeperLimits`` allows for this kind of field.
    case lengthOverLimit(Int, limit: Int)
    /// Bytes left over after the record's last field.
    case trailingBytes(count: Int)
    /// A boolean byte other than 0 or 1.
    case invalidBool(UInt8)
    /// A string that is not valid UTF-8.
    case invalidUTF8
    /// A number the field never holds here: an unknown event type, a keeper state other than
    /// SyncConnected on a node event.
    case unexpectedValue(Int64)
    /// Jute's null (-1) where the protocol always sends a value.
    case unexpectedNull

    public var description: String {
        switch self {
        case .truncated(let needed, let available): "needs \(needed) bytes, \(available) left in the frame"
        case .negativeLength(let length): "negative length \(length)"
        case .lengthOverLimit(let length, let limit): "length \(length) exceeds the limit of \(limit)"
        case .trailingBytes(let count): "\(count) unexpected trailing bytes"
        case .invalidBool(let value): "boolean byte \(value); must be 0 or 1"
        case .invalidUTF8: "not valid UTF-8"
        case .unexpectedValue(let value): "unexpected value \(value)"
        case .unexpectedNull: "null (-1) where a value is required"
        }
    }
}
