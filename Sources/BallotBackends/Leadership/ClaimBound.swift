import BallotRuntime

/// How long a node may claim leadership on the strength of a coordination service's grant.
///
/// The service (an etcd lease, a ZooKeeper session) keeps a candidacy alive for `validity` after the
/// last request that renewed it reached the service, measured on the service's clock. The renewing
/// request reached it no earlier than this node sent it, so the service cannot hand the election to
/// anyone else before `sent + validity` on its clock, which is at least `sent + validity × (1 − ρ)`
/// on this node's clock when the two clocks' rates differ by at most ρ. This node therefore claims
/// only until
///
///     sent + validity × (1 − ρ) − margin
///
/// where `margin` covers what the renewal time does not (scheduling noise; for ZooKeeper, a
/// follower that keeps answering after losing its leader). docs/architecture.md, "Timing promises".
public struct ClaimBound: Hashable, Sendable {
    /// ρ: the documented bound on the relative clock-rate error between any two machines, the same
    /// one the Raft lease uses (docs/architecture.md, "The leader lease, and the clock-drift bound").
    public static let clockRateBound = 0.05

    /// The etcd lease TTL, or the negotiated ZooKeeper session timeout.
    public var validity: Duration
    public var margin: Duration

    public init(validity: Duration, margin: Duration) {
        self.validity = validity
        self.margin = margin
    }

    /// How long after the renewing request was sent the claim lasts: `validity × (1 − ρ) − margin`,
    /// which may be zero or negative for a configuration that leaves no room to claim.
    public var window: Duration {
        validity * (1 - Self.clockRateBound) - margin
    }

    /// The instant the claim ends, for a renewal sent at `sent`.
    public func deadline(renewalSentAt sent: MonotonicInstant) -> MonotonicInstant {
        sent + window
    }
}
