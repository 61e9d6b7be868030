// The Bully algorithm's messages (H. Garcia-Molina, "Elections in a Distributed Computing System",
// IEEE Trans. Computers C-31(1), 1982). The sender is the peer, so no message repeats it.
//
// Every message carries an election epoch. Coordinators announce an epoch higher than any they have
// seen, so the pair (epoch, coordinator) orders announcements and a stale one can be recognised;
// the epoch is what `NodeStatus.term` and `LeaderInfo.term` report for Bully.

/// "I am holding an election": sent to every member with a higher ID.
public struct BullyElection: Hashable, Sendable {
    /// The highest epoch the sender has seen, so that a coordinator answering it can announce an
    /// epoch the sender will accept.
    public var epoch: Term

    public init(epoch: Term) { self.epoch = epoch }
}

/// The answer ("OK") of a live higher member to a ``BullyElection``: it takes the election over,
/// and the sender waits for a ``BullyCoordinator`` instead of declaring itself coordinator.
public struct BullyAnswer: Hashable, Sendable {
    /// The highest epoch the answering member has seen.
    public var epoch: Term

    public init(epoch: Term) { self.epoch = epoch }
}

/// "I am the coordinator of `epoch`": sent by the winner of an election to every other member.
public struct BullyCoordinator: Hashable, Sendable {
    public var epoch: Term

    public init(epoch: Term) { self.epoch = epoch }
}

/// The coordinator's periodic proof of life. A member that hears none for its failure timeout
/// holds an election; a missed announcement is repaired by the next heartbeat.
public struct BullyHeartbeat: Hashable, Sendable {
    /// The epoch the sender coordinates.
    public var epoch: Term

    public init(epoch: Term) { self.epoch = epoch }
}
