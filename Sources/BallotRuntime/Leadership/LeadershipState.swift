import BallotCore

/// One node's leadership view at one moment: the snapshot every consumer reads (`/leader`,
/// `/readyz`, `/status`, metrics, event lines, the watch stream, the embedded API).
///
/// Values that age on their own — the lease, the leader's uptime, the time since the leader was
/// last heard — are stored as instants and judged at the moment of asking, so a process that was
/// paused reports an expired lease the instant it is asked, before its missed ticks run.
public struct LeadershipState: Hashable, Sendable {
    public var node: NodeID
    public var role: Role = .follower
    public var term: Term = .zero
    /// The leader this node knows for its current term.
    public var leader: LeaderInfo?
    /// This node's lease (``Lease/none`` unless it leads).
    public var lease: Lease = .none
    /// Grows by one with every change of the view: a leader found or lost, a lease begun or ended.
    /// Lease extensions do not count: they move the deadline, not the answer to "who leads".
    public var index: UInt64 = 0
    /// When the node started (the first leaderless interval begins here).
    public var startedAt: MonotonicInstant?
    /// Open while no leader is known: since when.
    public var leaderlessSince: MonotonicInstant?
    /// The latest leadership seen, kept across a brief loss of contact with the same leader, and
    /// when this node learned of it (the leader's uptime as seen here).
    public var leadership: LeaderInfo?
    public var leadershipSince: MonotonicInstant?
    /// The latest instant this node is known to have heard from a leader (or been one).
    public var lastLeaderContact: MonotonicInstant?
    /// Set once the node stopped taking part in elections.
    public var halt: Halt?
    /// The last ``LeadershipView/historyLimit`` changes, oldest first.
    public var history: [LeadershipRecord] = []

    public init(node: NodeID) { self.node = node }

    /// Whether this node leads **now**: leader role, a lease valid at `now`, not halted. The one
    /// answer to "am I the leader" that `/leader`, `/primary`, `ballot_is_leader` and the embedded
    /// API give; a lease is only ever judged at the instant of asking.
    public func isLeader(at now: MonotonicInstant) -> Bool {
        role == .leader && halt == nil && lease.isValid(at: now)
    }

    /// This node's remaining lease while it leads at `now`; `nil` otherwise.
    public func leaseRemaining(at now: MonotonicInstant) -> Duration? {
        isLeader(at: now) ? lease.remaining(at: now) : nil
    }

    /// Whether a leader is known for the current term (and this node still takes part).
    public var hasLeader: Bool { leader != nil && halt == nil }

    /// Whether a live leader is known at `now`: this node with a valid lease, or a leader heard from
    /// within `electionTimeout` — what `/readyz` reports. It turns false within one election
    /// timeout of losing the leader.
    public func hasLiveLeader(at now: MonotonicInstant, electionTimeout: Duration) -> Bool {
        guard halt == nil, leader != nil else { return false }
        if role == .leader { return lease.isValid(at: now) }
        guard let contact = lastLeaderContact else { return false }
        return now - contact < electionTimeout
    }

    /// How long the current leader has led, as this node knows it; `nil` with no leader.
    public func leaderUptime(at now: MonotonicInstant) -> Duration? {
        guard let leadership, let since = leadershipSince, leadership.id == leader?.id else { return nil }
        return max(now - since, .zero)
    }

    /// Time since this node last heard from a leader (zero on the leader; since start if never).
    public func sinceLeaderContact(at now: MonotonicInstant) -> Duration {
        if role == .leader { return .zero }
        guard let since = lastLeaderContact ?? startedAt else { return .zero }
        return max(now - since, .zero)
    }
}
