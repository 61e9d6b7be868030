/// The shape every election algorithm has, so Raft, Bully and Ring share one shell and one simulator.
///
/// Implementations are deterministic value types: the same inputs give the same actions. Time enters
/// only as ``tick()`` calls, randomness only through a seeded generator given at creation.
public protocol ElectionAlgorithm: Sendable {
    /// A stable lowercase name, e.g. `raft`, used in flags and metrics.
    static var algorithmName: String { get }

    var id: NodeID { get }
    var membership: Membership { get }
    /// A snapshot of what the node currently believes, for status pages and invariant checks.
    var status: NodeStatus { get }

    /// One logical clock step. Tick k is due at k tick intervals after start.
    mutating func tick() -> [Action]
    /// How many ticks from now the first one that may produce actions is (at least 1): the ticks
    /// before it would change nothing anyone outside can see, so a shell may sleep through them
    /// and deliver them late, in one go, together with that one. Inputs can move it either way.
    var ticksUntilTimer: UInt64 { get }
    /// A message from a peer. Messages from non-members must be filtered by the shell.
    mutating func receive(_ message: Message, from peer: NodeID) -> [Action]
    /// Evidence from the shell that `peer`'s process is gone: its connection dropped and reconnecting
    /// was refused. Evidence, not proof — safety never depends on it.
    mutating func peerUnreachable(_ peer: NodeID) -> [Action]
    /// Hand leadership to `target`; the outcome arrives later as ``Action/transferFinished(to:_:)``.
    mutating func transferLeadership(to target: NodeID) throws(TransferRefusal) -> [Action]
    /// The member a leader would hand over to before shutting down: the most up-to-date follower
    /// heard from most recently; `nil` when not leading or the algorithm has no transfer.
    var preferredTransferTarget: NodeID? { get }
    /// Give up leadership before the process exits.
    mutating func shutdown() -> [Action]
    /// Issue 15: a leader hands over to its best eligible follower (stepping down if there is none,
    /// or if the hand-over times out) and then neither campaigns nor accepts a transfer for
    /// `holdOffTicks` after it stopped leading.
    mutating func resign(holdOffTicks: UInt64) throws(TransferRefusal) -> [Action]
    /// Issue 15: an ineligible node never campaigns nor accepts a transfer; a leader made
    /// ineligible hands over first. The shell keeps the setting across restarts.
    mutating func setEligible(_ eligible: Bool) throws(CandidacyRefusal) -> [Action]
    /// Issue 15, released hand-overs: every holder of this node's lease in `term` (its
    /// `whileLeader` bodies, its registered sidecars) has stopped and will not act under it again.
    /// A node that no longer leads `term`, or leads it while handing over, may then let its
    /// successor's lease begin before the deadline it published. The shell calls it only after the
    /// lease ended and every holder confirmed; a leader that may still renew the lease ignores it.
    mutating func leaseReleased(term: Term) -> [Action]
}

extension ElectionAlgorithm {
    /// Algorithms that do not say when their timers fall due are ticked at every tick.
    public var ticksUntilTimer: UInt64 { 1 }

    /// Algorithms without a fast path ignore the evidence and wait for their timeouts.
    public mutating func peerUnreachable(_ peer: NodeID) -> [Action] { [] }

    /// Algorithms without leadership transfer cannot resign gracefully.
    public mutating func resign(holdOffTicks: UInt64) throws(TransferRefusal) -> [Action] {
        throw .unsupported(algorithm: Self.algorithmName)
    }

    /// Algorithms without a lease succession have nothing to release.
    public mutating func leaseReleased(term: Term) -> [Action] { [] }

    /// Algorithms without candidacy let every member lead.
    public mutating func setEligible(_ eligible: Bool) throws(CandidacyRefusal) -> [Action] {
        throw .unsupported(algorithm: Self.algorithmName)
    }
}

/// Why ``ElectionAlgorithm/setEligible(_:)`` refused.
public enum CandidacyRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    case unsupported(algorithm: String)

    public var description: String {
        switch self {
        case .unsupported(let algorithm):
            "\(algorithm) has no candidacy: every member may lead; run --algorithm raft for eligibility and priorities"
        }
    }
}

/// A read-only snapshot of one node's beliefs.
public struct NodeStatus: Hashable, Sendable {
    public var id: NodeID
    public var role: Role
    public var term: Term
    public var votedFor: NodeID?
    public var leader: NodeID?
    public var lastLog: LogPosition
    /// Logical ticks since this node started.
    public var now: UInt64
    /// Ticks since this node last heard from its leader (0 on the leader; `nil` if never).
    public var ticksSinceLeaderContact: UInt64?
    /// While leader: the tick until which a quorum has promised not to elect anyone else.
    /// `nil` when the node holds no lease (not leader, transferring, or no quorum heard yet).
    public var leaseExpiry: UInt64?
    /// The target of a transfer this node is running, if any.
    public var transferTarget: NodeID?
    /// The candidacy this node reports to its leader: ineligible while it holds off after resigning.
    public var candidacy: Candidacy

    /// True only while this node leads **and** holds a quorum lease: the value to report as
    /// "is leader" to anyone outside the core.
    public var holdsLease: Bool {
        guard role == .leader, let expiry = leaseExpiry else { return false }
        return now < expiry
    }

    public init(
        id: NodeID, role: Role, term: Term, votedFor: NodeID?, leader: NodeID?, lastLog: LogPosition,
        now: UInt64, ticksSinceLeaderContact: UInt64?, leaseExpiry: UInt64?, transferTarget: NodeID?,
        candidacy: Candidacy = .default
    ) {
        self.id = id
        self.role = role
        self.term = term
        self.votedFor = votedFor
        self.leader = leader
        self.lastLog = lastLog
        self.now = now
        self.ticksSinceLeaderContact = ticksSinceLeaderContact
        self.leaseExpiry = leaseExpiry
        self.transferTarget = transferTarget
        self.candidacy = candidacy
    }
}
