/// The answer to a peer's ``Handshake``: accepted, or rejected with a reason the rejected side
/// can count and log before the connection closes.
public enum HandshakeReply: Hashable, Sendable {
    case accepted
    case rejected(HandshakeRejection)
}

/// Why a handshake (or a later frame) was refused, in a code and a short human-readable message.
public struct HandshakeRejection: Hashable, Sendable, CustomStringConvertible {
    /// The message is bounded so a reject frame stays small; longer text is cut (see ``init(reason:message:)``).
    public static let maximumMessageByteCount = 255

    public let reason: RejectReason
    public let message: String

    /// Keeps at most ``maximumMessageByteCount`` UTF-8 bytes of `message`, cut between Unicode
    /// scalars so the result is still valid UTF-8.
    public init(reason: RejectReason, message: String) {
        self.reason = reason
        self.message = Self.truncated(message)
    }

    public var description: String { "\(reason): \(message)" }

    static func truncated(_ message: String) -> String {
        guard message.utf8.count > maximumMessageByteCount else { return message }
        var kept = 0
        var scalars = String.UnicodeScalarView()
        for scalar in message.unicodeScalars {
            let size = UTF8.width(scalar)
            guard kept + size <= maximumMessageByteCount else { break }
            kept += size
            scalars.append(scalar)
        }
        return String(scalars)
    }
}

/// The reason byte of a rejecting ``HandshakeReply``. Code 0 is the "accepted" status and is
/// never a reason; codes this implementation does not know are kept as they are, so a newer
/// peer's reason is still logged by number.
public struct RejectReason: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8

    /// `nil` for 0, which means "accepted" on the wire.
    public init?(rawValue: UInt8) {
        guard rawValue != 0 else { return nil }
        self.rawValue = rawValue
    }

    private init(code: UInt8) { self.rawValue = code }

    /// The frame could not be parsed, or came when the connection's state did not allow it.
    public static let malformed = RejectReason(code: 1)
    /// A frame declared a length above the receiver's limit.
    public static let oversized = RejectReason(code: 2)
    /// The cluster names differ.
    public static let wrongCluster = RejectReason(code: 3)
    /// The node ID is not a configured member, is the receiver itself, or is not the peer dialled.
    public static let unknownNode = RejectReason(code: 4)
    /// The frame's protocol version is one the receiver does not speak.
    public static let badVersion = RejectReason(code: 5)
    /// The authentication method is not accepted or its proof failed.
    public static let auth = RejectReason(code: 6)
    /// The frame type is unknown to the receiver.
    public static let unknownType = RejectReason(code: 7)
    /// Both sides are in the same cluster but run different election algorithms.
    public static let wrongAlgorithm = RejectReason(code: 8)

    /// The metrics label for a connection refused for this reason. A code this implementation
    /// does not know can only come from a newer peer, so it counts as `bad_version`.
    public var metricReason: WireErrorReason {
        switch rawValue {
        case 1: .malformed
        case 2: .oversized
        case 3, 8: .wrongCluster
        case 4: .unknownNode
        case 5: .badVersion
        case 6: .auth
        case 7: .unknownType
        default: .badVersion
        }
    }

    public var description: String {
        switch rawValue {
        case 1: "malformed"
        case 2: "oversized"
        case 3: "wrong_cluster"
        case 4: "unknown_node"
        case 5: "bad_version"
        case 6: "auth"
        case 7: "unknown_type"
        case 8: "wrong_algorithm"
        default: "reason \(rawValue)"
        }
    }
}
