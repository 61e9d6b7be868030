/// The cluster secrets one node holds: the one it proves with, and every one it accepts.
///
/// Rotation without downtime needs a moment in which two secrets are valid: while members
/// switch one by one, a member that already proves with the new secret must still be accepted
/// by one that does not yet, and the other way round. A node therefore proves with ``current``
/// and accepts a proof made with ``current`` or any of ``alsoAccepted`` (see `docs/protocol.md`,
/// "Rotating the secret").
public struct ClusterSecrets: Hashable, Sendable, CustomStringConvertible {
    /// The secret this node proves with, and accepts.
    public let current: ClusterSecret
    /// Further secrets whose proofs are accepted: the previous secret while a rotation is under
    /// way, or the next one while members are being told about it.
    public let alsoAccepted: [ClusterSecret]

    public init(current: ClusterSecret, alsoAccepted: [ClusterSecret] = []) {
        self.current = current
        self.alsoAccepted = alsoAccepted.filter { $0 != current }
    }

    /// Every secret a peer's proof may be made with, ``current`` first.
    public var accepted: [ClusterSecret] { [current] + alsoAccepted }

    public var description: String { "ClusterSecrets(current: redacted, \(alsoAccepted.count) more accepted)" }
}
