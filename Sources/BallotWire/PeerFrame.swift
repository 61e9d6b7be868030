import BallotCore

/// One frame of the peer protocol, decoded: the handshake, the answer to it, or an election message.
public enum PeerFrame: Hashable, Sendable {
    case handshake(Handshake)
    case handshakeReply(HandshakeReply)
    case message(Message)
    /// Version 2: what a member says about itself after the handshakes (issue 15).
    case memberInfo(MemberInfo)

    /// The type byte this frame is written with.
    public var frameType: FrameType {
        switch self {
        case .handshake: .handshake
        case .handshakeReply: .handshakeReply
        case .message(let message): FrameType(for: message)
        case .memberInfo: .memberInfo
        }
    }
}
