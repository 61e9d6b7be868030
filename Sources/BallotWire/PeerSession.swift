import BallotCore

/// The life of one peer connection, from the handshake exchange to delivering election messages.
///
/// Both sides send ``openingFrame`` as soon as the connection is up, then feed every decoded
/// frame to ``receive(_:)``. On any ``WireError`` — thrown here or by the decoder — the owner
/// sends `error.rejection` (when not `nil`) as a rejecting ``HandshakeReply`` and closes.
///
/// ```
/// awaitingHandshake ──peer handshake passes policy──▶ awaitingReply ──accepting reply──▶ established
///        │                      (send accepting reply)         │                          │
///        └───────── any other frame, or a check fails: error, close ◀────────────────────┘
/// ```
/// A rejecting reply is accepted in every state: it is the peer's last word before it closes.
public struct PeerSession: Hashable, Sendable {
    public enum State: Hashable, Sendable, CustomStringConvertible {
        /// Waiting for the peer's handshake.
        case awaitingHandshake
        /// The peer's handshake passed; waiting for the peer to accept ours.
        case awaitingReply(peer: NodeID, version: UInt8)
        /// Both handshakes accepted: election messages flow, in protocol `version`.
        case established(peer: NodeID, version: UInt8)
        /// The session ended with an error; nothing more is accepted.
        case failed(WireError)

        public var description: String {
            switch self {
            case .awaitingHandshake: "awaiting the peer's handshake"
            case .awaitingReply(let peer, _): "awaiting node \(peer)'s reply to our handshake"
            case .established(let peer, _): "established with node \(peer)"
            case .failed(let error): "failed (\(error))"
            }
        }
    }

    /// What the owner must do after a frame was received.
    public enum Step: Hashable, Sendable {
        /// Send this frame to the peer (the accepting reply to its handshake).
        case send(PeerFrame)
        /// The handshake exchange completed; election messages may now be sent to `peer`.
        case established(peer: NodeID)
        /// Hand this message to the election core.
        case deliver(Message, from: NodeID)
        /// Version 2: the peer said this about itself; keep it (issue 15).
        case memberInfo(MemberInfo, from: NodeID)
    }

    public let policy: HandshakePolicy
    /// The node this side dialled, or `nil` for an accepted connection.
    public let expectedPeer: NodeID?
    public private(set) var state: State = .awaitingHandshake

    public init(policy: HandshakePolicy, expectedPeer: NodeID?) {
        self.policy = policy
        self.expectedPeer = expectedPeer
    }

    /// The frame to send as soon as the connection opens, before anything else.
    public var openingFrame: PeerFrame { .handshake(policy.localHandshake) }

    /// The peer, once its handshake has passed.
    public var peer: NodeID? {
        switch state {
        case .awaitingReply(let peer, _), .established(let peer, _): peer
        case .awaitingHandshake, .failed: nil
        }
    }

    /// Advances the session by one received frame.
    public mutating func receive(_ frame: PeerFrame) throws(WireError) -> Step {
        do throws(WireError) {
            return try step(frame)
        } catch {
            state = .failed(error)
            throw error
        }
    }

    private mutating func step(_ frame: PeerFrame) throws(WireError) -> Step {
        switch (state, frame) {
        case (.failed(let error), _):
            throw error
        case (_, .handshakeReply(.rejected(let rejection))):
            throw .rejectedByPeer(rejection)
        case (.awaitingHandshake, .handshake(let handshake)):
            try policy.check(handshake, expectedPeer: expectedPeer)
            let version = WireVersion.negotiated(local: WireVersion.supported.upperBound, remote: handshake.maxVersion)
            state = .awaitingReply(peer: handshake.nodeID, version: version)
            return .send(.handshakeReply(.accepted))
        case (.awaitingReply(let peer, let version), .handshakeReply(.accepted)):
            state = .established(peer: peer, version: version)
            return .established(peer: peer)
        case (.established(let peer, _), .message(let message)):
            // The handshakes agreed on one algorithm; another algorithm's message breaks that promise.
            guard message.algorithm == policy.algorithm else {
                throw .unexpectedFrame(frame.frameType, state: "\(state) running \(policy.algorithm)")
            }
            return .deliver(message, from: peer)
        case (.established(let peer, _), .memberInfo(let info)):
            return .memberInfo(info, from: peer)
        case (_, .handshake), (_, .handshakeReply(.accepted)), (_, .message), (_, .memberInfo):
            throw .unexpectedFrame(frame.frameType, state: state.description)
        }
    }
}
