import BallotCore
import Crypto

/// Auth method 1's proof: HMAC-SHA256, keyed with the cluster secret, over both handshakes.
///
/// The message covers every field of both handshakes, the sender's first (`docs/protocol.md`,
/// "Auth method 1"):
///
/// - both nonces, so a proof is only good for the one connection whose receiver chose its nonce
///   (a recorded proof cannot be replayed);
/// - the sender's node ID before the receiver's, so a proof cannot be sent back to the node that
///   made it (reflected): the receiver expects the peer's ID first;
/// - whether the sender dialled or accepted the connection, so a third party that opens
///   connections to two members cannot pass one member's proof on to the other (each of them
///   accepted its connection, and each expects a proof from a dialler);
/// - the cluster name, algorithm and advertised versions, so nothing in either handshake can be
///   changed in transit without the proofs failing;
/// - a fixed label, so the secret's HMAC over this message can never be mistaken for an HMAC
///   the same secret makes for another purpose.
///
/// The secret itself never leaves the node; a proof reveals nothing about it.
public enum ClusterSecretProof {
    /// ASCII "BLOT-AUTH1-PROOF": the first 16 bytes of every proof message.
    public static let label: [UInt8] = Array("BLOT-AUTH1-PROOF".utf8)

    /// The bytes the HMAC is computed over, for a proof sent by `sender`'s owner, in `role` on
    /// this connection, to `receiver`'s.
    ///
    /// Each handshake's auth payload is its nonce; the session checks it is ``AuthNonce/byteCount``
    /// bytes before it gets here. The cluster name and algorithm are the sender's (the receiver
    /// has already checked that they equal its own).
    public static func message(from sender: Handshake, as role: ConnectionRole, to receiver: Handshake) -> [UInt8] {
        var message: [UInt8] = []
        message.reserveCapacity(
            label.count + 1 + sender.clusterName.byteCount + 1 + 1 + 8 + 8 + 1 + 1
                + sender.auth.payload.count + receiver.auth.payload.count)
        message += label
        message.append(UInt8(sender.clusterName.byteCount))
        message += sender.clusterName.rawValue.utf8
        message.append(sender.algorithm.wireCode)
        message.append(role.rawValue)
        appendBigEndian(sender.nodeID.rawValue, to: &message)
        appendBigEndian(receiver.nodeID.rawValue, to: &message)
        message.append(sender.maxVersion)
        message.append(receiver.maxVersion)
        message += sender.auth.payload
        message += receiver.auth.payload
        return message
    }

    /// The proof `sender`'s owner, in `role`, sends to `receiver`'s, made with `secret`.
    public static func prove(
        from sender: Handshake, as role: ConnectionRole, to receiver: Handshake, with secret: ClusterSecret
    ) -> AuthProof {
        let code = HMAC<SHA256>.authenticationCode(
            for: message(from: sender, as: role, to: receiver), using: SymmetricKey(data: secret.bytes))
        return AuthProof(checked: Array(code))
    }

    /// Whether `proof` was made with one of `secrets` by `sender`'s owner, in `role`, for `receiver`'s.
    ///
    /// Every accepted secret is tried, whatever the outcome of the others, and each comparison is
    /// swift-crypto's constant-time one, so the time taken does not tell which secret matched or
    /// how much of a wrong proof was right.
    public static func verify(
        _ proof: AuthProof, from sender: Handshake, as role: ConnectionRole, to receiver: Handshake,
        accepting secrets: ClusterSecrets
    ) -> Bool {
        let message = message(from: sender, as: role, to: receiver)
        var valid = false
        for secret in secrets.accepted {
            let matches = HMAC<SHA256>.isValidAuthenticationCode(
                proof.bytes, authenticating: message, using: SymmetricKey(data: secret.bytes))
            valid = valid || matches
        }
        return valid
    }

    private static func appendBigEndian(_ value: UInt64, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }
}

/// Which end of a TCP connection a side is: the one that dialled or the one that accepted.
public enum ConnectionRole: UInt8, Hashable, Sendable, CustomStringConvertible {
    case dialler = 1
    case acceptor = 2

    /// The role of the other end.
    public var peer: ConnectionRole { self == .dialler ? .acceptor : .dialler }

    public var description: String { self == .dialler ? "dialler" : "acceptor" }
}
