import BallotCore

/// Where a node's hard state (term, vote, last log position) is kept across crashes.
///
/// `save` returns only once the state would survive a crash or power loss (the real store fsyncs
/// a temporary file and renames it); when it throws, the previous state is still the durable one.
/// The driver calls it for every ``Action/persist(_:)`` and runs nothing after a failed save.
public protocol DurableStateStore: AnyObject {
    func save(_ state: HardState) throws
}

/// Where a node's messages leave it. Sending never waits: a message that cannot be handed to the
/// network at once is dropped (Raft tolerates loss; a slow peer must not hold up the others).
public protocol MessageOutbox: AnyObject {
    func send(_ message: Message, to peer: NodeID) -> SendOutcome
}

public enum SendOutcome: Hashable, Sendable {
    /// Handed to the connection to the peer.
    case queued
    /// Not sent: no connection, or the connection's buffer is full.
    case dropped
}

/// Told what a node driver did, for metrics and tests: the batches it carried out, heartbeat round
/// trips, and anything that went wrong. Every method but ``executed(_:at:)`` has a default that
/// ignores it.
public protocol NodeDriverObserver: AnyObject {
    /// A batch of core actions was carried out, in order, at `instant`. After a failed persist the
    /// batch is cut short at that action (and ``halted(_:)`` follows).
    func executed(_ actions: [Action], at instant: MonotonicInstant)
    /// A heartbeat this node sent to `peer` was acknowledged after `roundTrip`.
    func heartbeatAcknowledged(by peer: NodeID, after roundTrip: Duration)
    /// A heartbeat to `peer` could not be sent, or was not acknowledged within the election timeout.
    func heartbeatFailed(to peer: NodeID)
    /// The core broke its ``ElectionAlgorithm/ticksUntilTimer`` promise: a tick it called quiet
    /// acted, or its countdown jumped closer by itself. A shell that sleeps through quiet ticks
    /// would have delivered that tick late.
    func timerPromiseBroken(_ detail: String, at instant: MonotonicInstant)
    /// The node stopped taking part in elections.
    func halted(_ halt: Halt)
    /// Every holder of the lease of `term` stopped, and the core released it (issue 15): its
    /// successor's lease need not wait for the published deadline.
    func leaseReleased(term: Term, at instant: MonotonicInstant)
}

extension NodeDriverObserver {
    public func heartbeatAcknowledged(by peer: NodeID, after roundTrip: Duration) {}
    public func heartbeatFailed(to peer: NodeID) {}
    public func timerPromiseBroken(_ detail: String, at instant: MonotonicInstant) {}
    public func halted(_ halt: Halt) {}
    public func leaseReleased(term: Term, at instant: MonotonicInstant) {}
}
