import BallotCore

/// One frame of the peer protocol, decoded: the handshake, the proof of the cluster secret (auth
/// method 1 only), the answer to the handshake, or an election message.
public enum PeerFrame: Hashable, Sendable {
    case handshake(Handshake)
    case handshakeReply(HandshakeReply)
    case authProof(AuthProof)
    case message(Message)
    /// Version 2: what a member says about itself after the handshakes (issue 15).
    case memberInfo(MemberInfo)

    /// The type byte this frame is written with.
    public var frameType: FrameType {
        switch self {
        case .handshake: .handshake
        case .handshakeReply: .handshakeReply
        case .authProof: .authProof
        case .message(let message): FrameType(for: message)
        case .memberInfo: .memberInfo
        }
    }
}
