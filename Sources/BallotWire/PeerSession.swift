import BallotCore

/// The life of one peer connection, from the handshake exchange to delivering election messages.
///
/// Both sides send ``openingFrame`` as soon as the connection is up, then feed every decoded
/// frame to ``receive(_:)``. On any ``WireError`` — thrown here or by the decoder — the owner
/// sends `error.rejection` (when not `nil`) as a rejecting ``HandshakeReply`` and closes.
///
/// ```
/// awaitingHandshake ──peer handshake passes policy──▶ awaitingReply ──accepting reply──▶ established
///        │                (send accepting reply)            ▲                               │
///        │ under the cluster secret (auth method 1):        │ peer's proof verifies         │
///        └──▶ (send own auth_proof) awaitingProof ──────────┘ (send accepting reply)        │
///        any other frame, or a check fails: error, close ◀─────────────────────────────────┘
/// ```
/// A rejecting reply is accepted in every state: it is the peer's last word before it closes.
/// Under the cluster secret the accepting reply is sent only once the peer's proof has verified,
/// so a side that receives one knows the peer has checked its own proof too.
public struct PeerSession: Hashable, Sendable {
    public enum State: Hashable, Sendable, CustomStringConvertible {
        /// Waiting for the peer's handshake.
        case awaitingHandshake
        /// Auth method 1: the peer's handshake passed and this side sent its proof; waiting for
        /// the peer's proof. `peer` is only the ID the peer claims until then.
        case awaitingProof(peer: NodeID, version: UInt8)
        /// The peer's handshake (and proof) passed; waiting for the peer to accept ours.
        case awaitingReply(peer: NodeID, version: UInt8)
        /// Both handshakes accepted: election messages flow, in protocol `version`.
        case established(peer: NodeID, version: UInt8)
        /// The session ended with an error; nothing more is accepted.
        case failed(WireError)

        public var description: String {
            switch self {
            case .awaitingHandshake: "awaiting the peer's handshake"
            case .awaitingProof(let peer, _): "awaiting node \(peer)'s proof of the cluster secret"
            case .awaitingReply(let peer, _): "awaiting node \(peer)'s reply to our handshake"
            case .established(let peer, _): "established with node \(peer)"
            case .failed(let error): "failed (\(error))"
            }
        }
    }

    /// What the owner must do after a frame was received.
    public enum Step: Hashable, Sendable {
        /// Send this frame to the peer: this side's proof, or the accepting reply to its handshake.
        case send(PeerFrame)
        /// The handshake exchange completed; election messages may now be sent to `peer`.
        case established(peer: NodeID)
        /// Hand this message to the election core.
        case deliver(Message, from: NodeID)
        /// Version 2: the peer said this about itself; keep it (issue 15).
        case memberInfo(MemberInfo, from: NodeID)
    }

    /// The state with what the proof exchange needs to remember.
    private enum Phase: Hashable, Sendable {
        case awaitingHandshake
        case awaitingProof(peerHandshake: Handshake, secrets: ClusterSecrets, version: UInt8)
        case awaitingReply(peer: NodeID, version: UInt8)
        case established(peer: NodeID, version: UInt8)
        case failed(WireError)
    }

    public let policy: HandshakePolicy
    /// The node this side dialled, or `nil` for an accepted connection.
    public let expectedPeer: NodeID?
    /// Whether this side dialled or accepted the connection; the proofs are bound to it.
    public var role: ConnectionRole { expectedPeer == nil ? .acceptor : .dialler }
    /// The handshake this side opens with; under the cluster secret it carries this session's nonce.
    public let localHandshake: Handshake
    private var phase: Phase = .awaitingHandshake
    /// The identity in the peer's certificate, once the transport verified it (mutual TLS).
    public private(set) var certifiedPeer: PeerIdentity?

    /// A session whose nonce, if its policy needs one, comes from the system's secure generator.
    public init(policy: HandshakePolicy, expectedPeer: NodeID?) {
        let nonce = policy.clusterSecrets == nil ? nil : AuthNonce.random()
        self.init(policy: policy, expectedPeer: expectedPeer, nonce: nonce)
    }

    /// A session with a given nonce, for tests and test vectors. A nonce must never be used for
    /// two connections; `nil` is only valid for a policy without the cluster secret.
    public init(policy: HandshakePolicy, expectedPeer: NodeID?, nonce: AuthNonce?) {
        precondition(nonce != nil || policy.clusterSecrets == nil, "the cluster secret needs a nonce per session")
        self.policy = policy
        self.expectedPeer = expectedPeer
        self.localHandshake = nonce.map(policy.handshake(nonce:)) ?? policy.localHandshake
    }

    /// Records the identity of the peer's certificate, which the transport (mutual TLS) verified
    /// against the cluster's CA. The peer's handshake must then claim exactly this identity.
    /// Only possible before the peer's handshake: returns `false` (and changes nothing) later.
    @discardableResult
    public mutating func peerCertified(as identity: PeerIdentity) -> Bool {
        guard case .awaitingHandshake = phase, certifiedPeer == nil else { return false }
        certifiedPeer = identity
        return true
    }

    /// The frame to send as soon as the connection opens, before anything else.
    public var openingFrame: PeerFrame { .handshake(localHandshake) }

    public var state: State {
        switch phase {
        case .awaitingHandshake: .awaitingHandshake
        case .awaitingProof(let handshake, _, let version): .awaitingProof(peer: handshake.nodeID, version: version)
        case .awaitingReply(let peer, let version): .awaitingReply(peer: peer, version: version)
        case .established(let peer, let version): .established(peer: peer, version: version)
        case .failed(let error): .failed(error)
        }
    }

    /// The peer, once its handshake (and, under the cluster secret, its proof) has passed.
    public var peer: NodeID? {
        switch phase {
        case .awaitingReply(let peer, _), .established(let peer, _): peer
        case .awaitingHandshake, .awaitingProof, .failed: nil
        }
    }

    /// Advances the session by one received frame.
    public mutating func receive(_ frame: PeerFrame) throws(WireError) -> Step {
        do throws(WireError) {
            return try step(frame)
        } catch {
            phase = .failed(error)
            throw error
        }
    }

    private mutating func step(_ frame: PeerFrame) throws(WireError) -> Step {
        switch (phase, frame) {
        case (.failed(let error), _):
            throw error
        case (_, .handshakeReply(.rejected(let rejection))):
            throw .rejectedByPeer(rejection)
        case (.awaitingHandshake, .handshake(let handshake)):
            return try accept(handshake)
        case (.awaitingProof(let peerHandshake, let secrets, let version), .authProof(let proof)):
            try verify(proof, from: peerHandshake, accepting: secrets)
            phase = .awaitingReply(peer: peerHandshake.nodeID, version: version)
            return .send(.handshakeReply(.accepted))
        case (.awaitingProof(let peerHandshake, _, _), _):
            // Nothing counts before the proof: not a reply, not a message, not a second handshake.
            throw .missingAuthProof(peer: peerHandshake.nodeID, received: frame.frameType)
        case (.awaitingReply(let peer, let version), .handshakeReply(.accepted)):
            phase = .established(peer: peer, version: version)
            return .established(peer: peer)
        case (.established(let peer, _), .message(let message)):
            // The handshakes agreed on one algorithm; another algorithm's message breaks that promise.
            guard message.algorithm == policy.algorithm else {
                throw .unexpectedFrame(frame.frameType, state: "\(state) running \(policy.algorithm)")
            }
            return .deliver(message, from: peer)
        case (.established(let peer, _), .memberInfo(let info)):
            return .memberInfo(info, from: peer)
        case (_, .handshake), (_, .handshakeReply(.accepted)), (_, .authProof), (_, .message), (_, .memberInfo):
            throw .unexpectedFrame(frame.frameType, state: state.description)
        }
    }

    /// The peer's handshake: policy first; then, under the cluster secret, this side's proof.
    private mutating func accept(_ handshake: Handshake) throws(WireError) -> Step {
        try policy.check(handshake, expectedPeer: expectedPeer, certifiedAs: certifiedPeer)
        let version = WireVersion.negotiated(local: WireVersion.supported.upperBound, remote: handshake.maxVersion)
        guard handshake.auth.method == .clusterSecret else {
            phase = .awaitingReply(peer: handshake.nodeID, version: version)
            return .send(.handshakeReply(.accepted))
        }
        // A policy that lists method 1 without holding secrets cannot verify it.
        guard let secrets = policy.clusterSecrets else { throw .unsupportedAuthMethod(handshake.auth.method) }
        guard handshake.auth.payload.count == AuthNonce.byteCount else {
            throw .invalidAuthNonce(byteCount: handshake.auth.payload.count)
        }
        phase = .awaitingProof(peerHandshake: handshake, secrets: secrets, version: version)
        return .send(.authProof(ClusterSecretProof.prove(from: localHandshake, as: role, to: handshake, with: secrets.current)))
    }

    private func verify(_ proof: AuthProof, from peerHandshake: Handshake, accepting secrets: ClusterSecrets)
        throws(WireError)
    {
        let valid = ClusterSecretProof.verify(
            proof, from: peerHandshake, as: role.peer, to: localHandshake, accepting: secrets)
        guard !valid else { return }
        // The proof this side sent is no secret (the peer has it), so a plain comparison will do.
        if proof == ClusterSecretProof.prove(
            from: localHandshake, as: role, to: peerHandshake, with: secrets.current) {
            throw .reflectedAuthProof(peer: peerHandshake.nodeID)
        }
        throw .wrongAuthProof(peer: peerHandshake.nodeID)
    }
}
