/// Tunables of the Raft election core, in logical ticks.
///
/// The shell chooses the tick length (for example 10 ms) and converts durations to ticks.
public struct RaftConfiguration: Hashable, Sendable {
    /// T: election timeouts are drawn uniformly from [T, 2T) (Raft §5.2). Also the CheckQuorum
    /// window and the leader-stickiness window.
    public var electionTimeoutTicks: UInt64
    /// How often a leader sends heartbeats. Must be well below T.
    public var heartbeatIntervalTicks: UInt64
    /// Thesis §9.6: probe with a pre-vote before raising the term, so a node that was cut off
    /// cannot force a healthy leader to step down when it returns.
    public var preVote: Bool
    /// Thesis §6.2: a leader that has not heard from a quorum within T steps down.
    public var checkQuorum: Bool
    /// Thesis §4.2.3 / §9.6: refuse (pre-)votes while a live leader was heard within T.
    public var leaderStickiness: Bool
    /// ρ: the largest relative clock-rate error between any two nodes. It shortens the leader lease
    /// so that a lease never outlives the voters' promises (see ``leaseTicks``).
    public var clockDriftBound: Double
    /// Issue 7: treat the shell's report that the leader's process is gone (its connection dropped
    /// and reconnecting was refused) as evidence: campaign after a short random stagger instead of
    /// waiting out the election timeout, and let voters that have the same evidence waive stickiness.
    public var fastFailover: Bool
    /// Survivor k (in ID order) campaigns k·(s+1) + U[0, s] ticks after the evidence, s being this
    /// value, so followers that learn at once rarely split the vote.
    public var fastFailoverStaggerTicks: UInt64
    /// Issue 15: how long a member of higher priority than the leader must have been eligible,
    /// caught up and answering — with every member answering — before the leader hands over to it.
    /// Also the least time between two such hand-overs, so priorities cannot make leadership flap.
    public var preemptAfterTicks: UInt64
    /// Issue 15: a cap on the lease, for a lease shorter than T allows (`nil`: the longest safe
    /// lease). The successor of a crashed leader waits out the voters' promise, which follows the
    /// lease (``leasePromiseTicks``), so a shorter lease hands over sooner after a crash — at the
    /// price that a holder must stop whenever renewals are late by more than what is left of it.
    public var leaseLimitTicks: UInt64?

    public init(
        electionTimeoutTicks: UInt64 = 10,
        heartbeatIntervalTicks: UInt64 = 1,
        preVote: Bool = true,
        checkQuorum: Bool = true,
        leaderStickiness: Bool = true,
        clockDriftBound: Double = 0.05,
        fastFailover: Bool = true,
        fastFailoverStaggerTicks: UInt64 = 1,
        preemptAfterTicks: UInt64? = nil,
        leaseLimitTicks: UInt64? = nil
    ) {
        self.electionTimeoutTicks = electionTimeoutTicks
        self.heartbeatIntervalTicks = heartbeatIntervalTicks
        self.preVote = preVote
        self.checkQuorum = checkQuorum
        self.leaderStickiness = leaderStickiness
        self.clockDriftBound = clockDriftBound
        self.fastFailover = fastFailover
        self.fastFailoverStaggerTicks = fastFailoverStaggerTicks
        self.preemptAfterTicks = preemptAfterTicks ?? Self.defaultPreemptionTimeouts * electionTimeoutTicks
        self.leaseLimitTicks = leaseLimitTicks
    }

    /// The default preemption window in election timeouts: 30 s with the default T of 1 s.
    public static let defaultPreemptionTimeouts: UInt64 = 30

    /// A member counts as connected and healthy while its acknowledgements are never further apart
    /// than this: half an election timeout, and at least two heartbeat intervals so that one lost
    /// heartbeat does not count.
    public var healthGapTicks: UInt64 {
        max(electionTimeoutTicks / 2, 2 * heartbeatIntervalTicks)
    }

    /// How long an acknowledged heartbeat keeps the leader's lease alive, in the leader's ticks.
    ///
    /// A voter refuses votes for T−1 of its own ticks after a heartbeat arrived (one tick is lost to
    /// tick granularity). With clock rates within 1±ρ, the lease L is safe when
    /// L/(1−ρ) ≤ (T−1)/(1+ρ), so L = ⌊(T−1)(1−ρ)/(1+ρ)⌋, or ``leaseLimitTicks`` if that is shorter.
    /// The lease relies on leader stickiness; without it there is no lease.
    public var leaseTicks: UInt64 {
        guard leaderStickiness, checkQuorum, electionTimeoutTicks > 1 else { return 0 }
        let factor = (1 - clockDriftBound) / (1 + clockDriftBound)
        let longest = UInt64((Double(electionTimeoutTicks - 1) * factor).rounded(.down))
        return min(longest, leaseLimitTicks ?? longest)
    }

    /// Lease succession: how long a voter, after acknowledging a heartbeat, gives no other leader
    /// lease credit, in its own ticks. The same inequality read the other way:
    /// P = ⌈L(1+ρ)/(1−ρ)⌉ + 1, so that the promise outlives the lease it backs; never above T
    /// (with the longest lease and ρ = 0.05 it is T or a tick less). After a crash the successor's
    /// lease waits exactly this.
    public var leasePromiseTicks: UInt64 {
        let lease = leaseTicks
        guard lease > 0 else { return 0 }
        let stretch = (1 + clockDriftBound) / (1 - clockDriftBound)
        return min(electionTimeoutTicks, UInt64((Double(lease) * stretch).rounded(.up)) + 1)
    }

    /// Checks the values make a working configuration.
    public func validate() throws(RaftConfigurationError) {
        guard electionTimeoutTicks >= 2 else { throw .electionTimeoutTooShort(electionTimeoutTicks) }
        guard heartbeatIntervalTicks >= 1, heartbeatIntervalTicks < electionTimeoutTicks else {
            throw .heartbeatNotBelowElectionTimeout(
                heartbeat: heartbeatIntervalTicks, electionTimeout: electionTimeoutTicks)
        }
        guard clockDriftBound >= 0, clockDriftBound < 0.5 else { throw .driftBoundOutOfRange(clockDriftBound) }
        guard preemptAfterTicks >= electionTimeoutTicks else {
            throw .preemptionWindowBelowElectionTimeout(window: preemptAfterTicks, electionTimeout: electionTimeoutTicks)
        }
        if let limit = leaseLimitTicks, limit < 2 * heartbeatIntervalTicks {
            throw .leaseNotTwoHeartbeats(lease: limit, heartbeat: heartbeatIntervalTicks)
        }
    }
}

public enum RaftConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    case electionTimeoutTooShort(UInt64)
    case heartbeatNotBelowElectionTimeout(heartbeat: UInt64, electionTimeout: UInt64)
    case driftBoundOutOfRange(Double)
    case preemptionWindowBelowElectionTimeout(window: UInt64, electionTimeout: UInt64)
    case leaseNotTwoHeartbeats(lease: UInt64, heartbeat: UInt64)

    public var description: String {
        switch self {
        case .electionTimeoutTooShort(let t):
            "election timeout of \(t) ticks is too short; use at least 2 ticks"
        case .heartbeatNotBelowElectionTimeout(let h, let t):
            "heartbeat interval (\(h) ticks) must be at least 1 tick and below the election timeout (\(t) ticks)"
        case .driftBoundOutOfRange(let rho):
            "clock drift bound \(rho) must be in [0, 0.5)"
        case .preemptionWindowBelowElectionTimeout(let window, let t):
            "preemption window (\(window) ticks) must be at least the election timeout (\(t) ticks)"
        case .leaseNotTwoHeartbeats(let lease, let h):
            "lease limit (\(lease) ticks) must be at least two heartbeat intervals (\(2 * h) ticks), "
                + "or every late heartbeat ends the lease; raise it or send heartbeats more often"
        }
    }
}
