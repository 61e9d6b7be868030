import BallotCore
import BallotRuntime

/// A clock a test sets by hand.
public final class ManualClock: MonotonicClock {
    public var now: MonotonicInstant

    public init(_ start: MonotonicInstant = MonotonicInstant(nanoseconds: 1_000_000_000)) {
        now = start
    }

    public func advance(by duration: Duration) {
        now = now + duration
    }
}

/// A durable store in memory: what a test's node would find after a crash, and a way to make the
/// next save fail as a full or broken disk would.
public final class MemoryStore: DurableStateStore {
    public struct WriteFailed: Error, CustomStringConvertible {
        public var description: String { "injected write failure" }
    }

    public private(set) var state: HardState
    /// Every state saved, in order.
    public private(set) var saved: [HardState] = []
    /// When set, saves fail (and leave ``state`` as it was).
    public var failing = false

    public init(_ state: HardState = .initial) {
        self.state = state
    }

    public func save(_ state: HardState) throws {
        if failing { throw WriteFailed() }
        self.state = state
        saved.append(state)
    }
}

/// An outbox that keeps what it is given, for a test to deliver (or lose) as it likes.
public final class CollectingOutbox: MessageOutbox {
    public private(set) var sent: [(message: Message, to: NodeID)] = []
    /// Peers whose messages are dropped at the outbox (as with no connection).
    public var unreachable: Set<NodeID> = []

    public init() {}

    public func send(_ message: Message, to peer: NodeID) -> SendOutcome {
        if unreachable.contains(peer) { return .dropped }
        sent.append((message, peer))
        return .queued
    }

    /// Hands over everything sent since the last call.
    public func drain() -> [(message: Message, to: NodeID)] {
        defer { sent.removeAll() }
        return sent
    }
}

/// An observer that keeps everything a driver reports.
public final class RecordingObserver: NodeDriverObserver {
    public private(set) var batches: [(actions: [Action], at: MonotonicInstant)] = []
    public private(set) var roundTrips: [(peer: NodeID, roundTrip: Duration)] = []
    public private(set) var failedHeartbeats: [NodeID] = []
    public private(set) var brokenPromises: [String] = []
    public private(set) var halts: [Halt] = []

    public init() {}

    public var actions: [Action] { batches.flatMap(\.actions) }

    public func executed(_ actions: [Action], at instant: MonotonicInstant) { batches.append((actions, instant)) }
    public func heartbeatAcknowledged(by peer: NodeID, after roundTrip: Duration) { roundTrips.append((peer, roundTrip)) }
    public func heartbeatFailed(to peer: NodeID) { failedHeartbeats.append(peer) }
    public func timerPromiseBroken(_ detail: String, at instant: MonotonicInstant) { brokenPromises.append(detail) }
    public func halted(_ halt: Halt) { halts.append(halt) }
}
