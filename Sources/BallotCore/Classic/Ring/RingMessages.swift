// The Ring algorithm's messages: a token-passing election around the logical ring of sorted IDs
// (E. Chang and R. Roberts, "An improved algorithm for decentralized extrema-finding in circular
// configurations of processes", CACM 22(5), 1979; G. LeLann 1977; as presented by Tanenbaum & van
// Steen, Distributed Systems, §6.5). Election and elected messages go to the next live successor
// and are acknowledged, so that a successor that does not answer can be skipped.

/// The election token: the highest candidate ID seen so far, forwarded to the successor.
public struct RingElection: Hashable, Sendable {
    /// The epoch this election would give its winner; it identifies the election, so a newer
    /// election supersedes an older one that lost its token.
    public var epoch: Term
    /// The highest live ID the token has passed (Chang–Roberts: each member forwards the larger of
    /// this and its own ID).
    public var candidate: NodeID
    /// The sender's number for this forward, echoed by the ``RingAck``.
    public var sequence: UInt64

    public init(epoch: Term, candidate: NodeID, sequence: UInt64) {
        self.epoch = epoch
        self.candidate = candidate
        self.sequence = sequence
    }
}

/// The elected (coordinator) message: started by the winner when its own ID came back, and
/// forwarded once around the ring until it returns to the winner.
public struct RingElected: Hashable, Sendable {
    public var epoch: Term
    public var coordinator: NodeID
    /// The sender's number for this forward, echoed by the ``RingAck``.
    public var sequence: UInt64

    public init(epoch: Term, coordinator: NodeID, sequence: UInt64) {
        self.epoch = epoch
        self.coordinator = coordinator
        self.sequence = sequence
    }
}

/// A successor's acknowledgement of a ``RingElection`` or ``RingElected``.
public struct RingAck: Hashable, Sendable {
    /// The epoch of the acknowledged message.
    public var epoch: Term
    /// The `sequence` of the acknowledged message.
    public var sequence: UInt64

    public init(epoch: Term, sequence: UInt64) {
        self.epoch = epoch
        self.sequence = sequence
    }
}

/// The coordinator's periodic proof of life, sent to every member. A member that hears none for
/// its failure timeout starts an election.
public struct RingHeartbeat: Hashable, Sendable {
    /// The epoch the sender coordinates.
    public var epoch: Term

    public init(epoch: Term) { self.epoch = epoch }
}
