import BallotCore

/// Everything that determines one simulated history. The same options replay the same history.
public struct SimulationOptions: Hashable, Sendable {
    public var seed: UInt64
    /// Cluster size; `nil` lets the seed choose among 1…7 members.
    public var nodes: Int?
    public var faults: Set<FaultKind>
    public var algorithm: ElectionAlgorithmKind
    /// Raft switches, so a test can show what breaks without them.
    public var preVote = true
    public var checkQuorum = true
    public var leaderStickiness = true
    /// Issue 7: campaign at once on evidence that the leader's process died.
    public var fastFailover = true
    /// Issue 15: give every node a leadership priority from 0 to 3, drawn from the seed (by a
    /// generator of its own, so the rest of the history is drawn as without priorities).
    public var priorities = false
    /// Issue 15: the preemption window, in ticks; four election timeouts by default, so that a
    /// preemption fits in a schedule.
    public var preemptAfterTicks: UInt64 = 60

    /// Issue 15: how many lease holders each node has (see `SimulatedHolders`); `nil` draws 0 to 2
    /// per node from the seed, by a generator of its own.
    public var leaseHolders: Int?
    /// Issue 15: whether nodes release an ended lease once its holders stopped (released
    /// hand-overs); off, successors always wait for the published deadline.
    public var releasesLeases = true
    /// Issue 15: a lease shorter than T allows (``RaftConfiguration/leaseLimitTicks``).
    public var leaseLimit: LeaseLimit = .drawn

    /// How a schedule's lease is capped.
    public enum LeaseLimit: Hashable, Sendable {
        /// One schedule in three, chosen by the seed (with a generator of its own), caps the lease
        /// at two heartbeats up to just under the longest; the rest use the longest.
        case drawn
        /// The longest lease T allows.
        case none
        case ticks(UInt64)
    }

    /// Virtual length of one logical tick.
    public var tickMicroseconds: UInt64 = 10_000
    /// T, in ticks: timeouts are drawn from [T, 2T).
    public var electionTimeoutTicks: UInt64 = 15
    public var heartbeatIntervalTicks: UInt64 = 3
    /// Clock rates of nodes differ from nominal by at most this fraction (must not exceed the
    /// core's `clockDriftBound`, or the lease invariant is not expected to hold).
    public var clockDrift: Double = 0.05
    public var network = NetworkProfile()

    /// How long faults are injected before everything heals.
    public var faultPhaseMilliseconds: UInt64 = 4_000
    /// After healing, a leader known to every node must emerge within this many maximal election
    /// timeouts (2T each).
    public var livenessBoundTimeouts: UInt64 = 10
    /// Mean gap between injected faults.
    public var meanFaultGapMilliseconds: UInt64 = 250

    /// Record a human-readable trace of every event (slow; for replaying one seed).
    public var trace = false

    public init(seed: UInt64, nodes: Int? = nil, faults: Set<FaultKind> = FaultKind.standard,
                algorithm: ElectionAlgorithmKind = .raft) {
        self.seed = seed
        self.nodes = nodes
        self.faults = faults
        self.algorithm = algorithm
    }

    var raftConfiguration: RaftConfiguration {
        RaftConfiguration(
            electionTimeoutTicks: electionTimeoutTicks, heartbeatIntervalTicks: heartbeatIntervalTicks,
            preVote: preVote, checkQuorum: checkQuorum, leaderStickiness: leaderStickiness,
            clockDriftBound: 0.05, fastFailover: fastFailover, preemptAfterTicks: preemptAfterTicks,
            leaseLimitTicks: leaseLimitTicks)
    }

    /// Refuses settings the core would refuse (a lease cap under two heartbeats, …).
    public func validate() throws(RaftConfigurationError) { try raftConfiguration.validate() }

    /// This schedule's lease cap in ticks, `nil` for the longest lease.
    var leaseLimitTicks: UInt64? {
        switch leaseLimit {
        case .none: return nil
        case .ticks(let ticks): return ticks
        case .drawn:
            var random = SplitMix64(seed: seed ^ 0x4C45_4153_454C_494D)
            guard random.next() % 3 == 0 else { return nil }
            var longest = RaftConfiguration(
                electionTimeoutTicks: electionTimeoutTicks, heartbeatIntervalTicks: heartbeatIntervalTicks,
                clockDriftBound: 0.05).leaseTicks
            longest = max(longest, 2 * heartbeatIntervalTicks + 1)
            return UInt64.random(in: (2 * heartbeatIntervalTicks)...(longest - 1), using: &random)
        }
    }

    /// Each node's priority: 0 for all, or with ``priorities`` one drawn per node from the seed.
    func priority(of node: NodeID) -> UInt16 {
        guard priorities else { return 0 }
        var random = SplitMix64(seed: seed ^ 0x5052_494F_5249_5459 &+ node.rawValue &* 0x9E37_79B9_7F4A_7C15)
        return UInt16(random.next() % 4)
    }

    /// Raft's safety properties hold by design and any breach fails the run. Bully and Ring have no
    /// quorum, so two leaders of one epoch and overlapping "I lead" beliefs are expected under
    /// partitions: the simulator measures them (``SimulationResult``) instead of failing.
    public var measuredProperties: Set<Violation.Property> {
        switch algorithm {
        case .raft: []
        case .bully, .ring: [.electionSafety, .leaseExclusivity, .leaseSuccession]
        }
    }

    var electionTimeoutMicroseconds: UInt64 { electionTimeoutTicks * tickMicroseconds }
    var livenessBoundMicroseconds: UInt64 { livenessBoundTimeouts * 2 * electionTimeoutMicroseconds }

    /// The `ballot simulate` invocation that replays exactly this history.
    public var replayCommand: String {
        // The algorithm is always named, so a replay line stays right whatever the default.
        var parts = ["swift run ballot simulate --seed \(seed) --algorithm \(algorithm.rawValue)"]
        if let nodes { parts.append("--nodes \(nodes)") }
        if faults != FaultKind.standard {
            let names = faults == Set(FaultKind.allCases) ? "all" : faults.map(\.rawValue).sorted().joined(separator: ",")
            parts.append("--faults \(faults.isEmpty ? "none" : names)")
        }
        if priorities { parts.append("--priorities") }
        if preemptAfterTicks != SimulationOptions(seed: 0).preemptAfterTicks {
            parts.append("--preempt-after-ticks \(preemptAfterTicks)")
        }
        if !preVote { parts.append("--no-pre-vote") }
        if !checkQuorum { parts.append("--no-check-quorum") }
        if !leaderStickiness { parts.append("--no-stickiness") }
        if !fastFailover { parts.append("--no-fast-failover") }
        if let leaseHolders { parts.append("--lease-holders \(leaseHolders)") }
        if !releasesLeases { parts.append("--no-lease-release") }
        switch leaseLimit {
        case .drawn: break
        case .none: parts.append("--lease-limit-ticks none")
        case .ticks(let ticks): parts.append("--lease-limit-ticks \(ticks)")
        }
        return parts.joined(separator: " ")
    }
}

/// The message-level behaviour of the simulated network.
public struct NetworkProfile: Hashable, Sendable {
    /// One-way delay drawn uniformly from this range…
    public var minDelayMicroseconds: UInt64 = 500
    public var maxDelayMicroseconds: UInt64 = 5_000
    /// …except for this share of messages, which take up to `tailFactor` times longer (reordering).
    public var tailProbability = 0.05
    public var tailFactor: UInt64 = 10
    /// Background loss and duplication while faults are being injected.
    public var lossProbability = 0.01
    public var duplicationProbability = 0.01

    public init() {}
}
