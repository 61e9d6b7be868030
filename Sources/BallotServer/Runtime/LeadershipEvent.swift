import BallotCore

/// What an embedding application needs to know about leadership, with the term as fencing token.
///
/// Pass `fencingToken` along with every action taken as leader; a resource that remembers the
/// highest token it has seen can refuse a deposed leader (see docs/fencing.md).
public struct Leadership: Hashable, Sendable {
    /// The leader this node knows, if any.
    public var leader: NodeID?
    public var term: Term
    /// True only while this node leads with a quorum lease valid at the moment of asking.
    public var isSelf: Bool
    /// The term, as the token to fence writes with.
    public var fencingToken: Term { term }

    public init(leader: NodeID?, term: Term, isSelf: Bool) {
        self.leader = leader
        self.term = term
        self.isSelf = isSelf
    }
}

/// A leadership change as it happens on this node, delivered to ``BallotNode/leadershipEvents()``.
public enum LeadershipEvent: Hashable, Sendable {
    /// A leader is known for `term`; `isSelf` when it is this node.
    case elected(leader: NodeID, term: Term, isSelf: Bool, leaderlessFor: Duration)
    /// The known leader is gone (timeout, step-down, or a newer term began).
    case lost(previous: NodeID, term: Term)
}

/// A move of this node's lease deadline, as ``BallotNode/observeLease(_:)`` reports it.
///
/// From `at` on, the node reports itself leader (`/leader`, `ballot_is_leader`, `Leadership.isSelf`)
/// exactly while `at ≤ now < until`, until the next change; `until == at` says the lease ended.
/// The deadline is the instant the lease's expiry tick is due (`origin + expiry·tick`, the same
/// projection `leaseIsValid` uses), so it is a promise about the monotonic clock, not about ticks.
public struct LeaseChange: Hashable, Sendable {
    public var term: Term
    /// When the change happened: the instant of the core batch that moved the deadline.
    public var at: ContinuousClock.Instant
    /// The new deadline; `nil` for a lease without end (a single-node cluster is its own quorum).
    public var until: ContinuousClock.Instant?

    public init(term: Term, at: ContinuousClock.Instant, until: ContinuousClock.Instant?) {
        self.term = term
        self.at = at
        self.until = until
    }

    /// Whether this change ends the lease rather than starting or extending it.
    public var ends: Bool { until.map { $0 <= at } ?? false }
}
