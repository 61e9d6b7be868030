/// Asks for a vote (or, with PreVote, asks whether a vote *would* be granted). Raft §5.2, §5.4.1.
///
/// The candidate is the sender, so it is not repeated here.
public struct VoteRequest: Hashable, Sendable {
    /// For a real vote, the candidate's new term; for a pre-vote, the term it would campaign in.
    public var term: Term
    /// The candidate's last log entry, for the election restriction (§5.4.1).
    public var lastLog: LogPosition
    /// Set when the campaign was started by a leadership transfer (thesis §3.10): voters that know
    /// of the transfer from their leader skip leader stickiness for this candidate.
    public var isTransfer: Bool

    public init(term: Term, lastLog: LogPosition, isTransfer: Bool = false) {
        self.term = term
        self.lastLog = lastLog
        self.isTransfer = isTransfer
    }
}

/// The answer to a ``VoteRequest``.
///
/// A grant carries the request's term. A refusal carries the voter's current term, so a candidate
/// that is behind catches up; the one exception is a real vote refused by leader stickiness, which
/// echoes the request's term because the voter did not move to it (thesis §4.2.3).
public struct VoteResponse: Hashable, Sendable {
    public var term: Term
    public var granted: Bool

    public init(term: Term, granted: Bool) {
        self.term = term
        self.granted = granted
    }
}

/// The leader's periodic proof of life: an AppendEntries with no entries (Raft §5.2).
public struct Heartbeat: Hashable, Sendable {
    public var term: Term
    /// Increases with every broadcast within a term, so acknowledgements map back to send times
    /// (for the leader lease and round-trip times) and reordered heartbeats can be recognised.
    public var sequence: UInt64
    /// The leader's last log entry; followers adopt it, which is all the replication elections need.
    public var leaderLog: LogPosition
    /// The node a leadership transfer is handing over to, announced so voters may waive stickiness.
    public var transferTarget: NodeID?

    public init(term: Term, sequence: UInt64, leaderLog: LogPosition, transferTarget: NodeID? = nil) {
        self.term = term
        self.sequence = sequence
        self.leaderLog = leaderLog
        self.transferTarget = transferTarget
    }
}

/// A follower's acknowledgement of a ``Heartbeat``, or a stale leader's notice of a newer term.
public struct HeartbeatResponse: Hashable, Sendable {
    public var term: Term
    public var sequence: UInt64
    /// The follower's last log entry, so the leader knows who is up to date for a transfer.
    public var lastLog: LogPosition
    /// Issue 15: whether the follower may lead now, and its priority, so the leader picks whom to
    /// hand over to and when to preempt. A version-1 peer sends none and counts as ``Candidacy/default``.
    public var candidacy: Candidacy

    public init(term: Term, sequence: UInt64, lastLog: LogPosition, candidacy: Candidacy = .default) {
        self.term = term
        self.sequence = sequence
        self.lastLog = lastLog
        self.candidacy = candidacy
    }
}

/// Tells the transfer target to campaign at once, skipping PreVote (thesis §3.10).
public struct TimeoutNow: Hashable, Sendable {
    public var term: Term

    public init(term: Term) { self.term = term }
}

/// Issue 15, released hand-overs: the leader of `term` says every holder of its lease in that term
/// has stopped, so the promises its lease rested on need not be waited out. Sent once the shell
/// confirmed it (``RaftNode/leaseReleased(term:)``); never moves anyone's term.
public struct LeaseReleased: Hashable, Sendable {
    public var term: Term

    public init(term: Term) { self.term = term }
}
