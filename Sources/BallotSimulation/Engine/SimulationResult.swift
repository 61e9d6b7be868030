import BallotCore

/// What one simulated history produced: violations, counts, timings, and an optional trace.
public struct SimulationResult: Sendable {
    public var options: SimulationOptions
    public var nodeCount: Int
    public var violations: [Violation] = []
    public var eventsProcessed = 0
    public var faultsInjected: [FaultKind: Int] = [:]
    /// Nodes that stopped taking part because their disk failed a write (a `disk` fault).
    public var halts = 0
    /// Issue 15: leases released before their deadline because every holder stopped.
    public var leaseReleases = 0
    public var campaignsStarted = 0
    /// Campaigns won, i.e. elections that produced a leader.
    public var elections = 0
    public var leaderChanges = 0
    public var messagesSent = 0
    public var messagesDropped = 0
    /// Bytes of all messages sent, as framed on the wire (`FrameEncoder.encodedByteCount`).
    public var bytesSent = 0
    /// Messages sent that are not periodic heartbeats or their acknowledgements: election traffic.
    public var electionMessagesSent = 0
    public var electionBytesSent = 0
    /// Virtual time from the final heal until every node knew the same leader; `nil` if never.
    public var timeToStableLeaderMicroseconds: UInt64?
    /// Virtual time during which two or more nodes believed they led (any terms), by role.
    public var overlappingLeadershipMicroseconds: UInt64 = 0
    /// Split brain: virtual time during which two or more nodes would each answer "I am the
    /// leader" (``NodeStatus/holdsLease``: a valid lease for Raft, the coordinator belief for Bully
    /// and Ring). Always zero for Raft, whose lease exclusivity is a checked invariant.
    public var splitBrainMicroseconds: UInt64 = 0
    /// How many times the cluster entered split brain.
    public var splitBrainEpisodes = 0
    /// Breaches of the properties the algorithm does not promise (see
    /// ``SimulationOptions/measuredProperties``), counted instead of failing the run.
    public var measuredBreaches: [Violation.Property: Int] = [:]
    /// Every (leader, term) that some node claimed, with when it first did, in order.
    public var leaderClaims: [LeaderClaim] = []
    /// Issue 15: every preemptive hand-over, in order.
    public var preemptions: [Preemption] = []
    /// Issue 15, with priorities on: whether the leader at the end has the highest priority.
    public var endedWithPreferredLeader: Bool?
    public var trace: [String] = []

    public var passed: Bool { violations.isEmpty }
    public var totalFaults: Int { faultsInjected.values.reduce(0, +) }
}

/// A node began to lead a term (Raft) or epoch (Bully, Ring).
public struct LeaderClaim: Hashable, Sendable {
    public var leader: NodeID
    public var term: Term
    public var at: VirtualTime
}
