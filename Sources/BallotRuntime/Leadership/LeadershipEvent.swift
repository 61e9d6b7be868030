import BallotCore

/// A change of one node's leadership view, as its consumers are told of it: the event lines,
/// metrics, the watch stream and the embedded API all see the same sequence.
public enum LeadershipEvent: Hashable, Sendable {
    /// A leader became known for `term`; `isSelf` when it is this node. `leaderless` is how long
    /// this node had no leader before (`nil` if it went straight from one leader to the next);
    /// `isNewLeadership` is false when the same leader of the same term is found again after a
    /// brief loss of contact.
    case elected(leader: NodeID, term: Term, isSelf: Bool, leaderless: Duration?, isNewLeadership: Bool,
                 index: UInt64, at: MonotonicInstant)
    /// The known leader is gone (timeout, step-down, a newer term, shutdown, halt).
    case lost(previous: NodeID, term: Term, index: UInt64, at: MonotonicInstant)
    /// This node's lease deadline moved (see ``LeaseChange``).
    case lease(LeaseChange, index: UInt64)

    /// The view's change index after this event.
    public var index: UInt64 {
        switch self {
        case .elected(_, _, _, _, _, let index, _), .lost(_, _, let index, _), .lease(_, let index): index
        }
    }
}

/// A move of this node's lease deadline.
///
/// From `at` on, the node reports itself leader exactly while `at ≤ now < until`, until the next
/// change; `until == at` says the lease ended (step-down, transfer, expiry, shutdown, halt) and
/// `until == nil` is a lease without end (a cluster of one, Bully, Ring).
public struct LeaseChange: Hashable, Sendable {
    public var term: Term
    /// When the change happened: the instant of the batch (or wake-up) that moved the deadline.
    public var at: MonotonicInstant
    public var until: MonotonicInstant?

    public init(term: Term, at: MonotonicInstant, until: MonotonicInstant?) {
        self.term = term
        self.at = at
        self.until = until
    }

    /// Whether this change ends the lease rather than starting or extending it.
    public var ends: Bool { until.map { $0 <= at } ?? false }
}

/// One entry of the recent leadership history: a leader found, or lost.
public struct LeadershipRecord: Hashable, Sendable {
    /// The view's change index after this change.
    public var index: UInt64
    /// The leader now known, or `nil` when it was lost.
    public var leader: NodeID?
    public var term: Term
    /// When this node saw the change, on its monotonic clock.
    public var at: MonotonicInstant
    /// How long this node had been without a leader before this one (`nil` for a loss, or for a
    /// direct hand-over between leaders).
    public var leaderless: Duration?
}
