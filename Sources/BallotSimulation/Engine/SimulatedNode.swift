import BallotCore
import BallotRuntime

/// One simulated process: the node driver the server runs, plugged into a virtual clock, disk and
/// network, plus what the simulator knows about the host it runs on.
struct SimulatedNode {
    enum Condition: Equatable { case up, crashed, paused }

    let id: NodeID
    /// The driver of the current incarnation; replaced, with a fresh core, on every restart.
    var driver: NodeDriver
    /// The host's monotonic clock, running at the node's own rate; it keeps running across pauses
    /// and restarts, as `CLOCK_MONOTONIC` does.
    var clock: SimulatedClock
    /// What survives a crash. It can fail writes, as a full or broken disk does.
    var disk: SimulatedDisk
    var outbox: SimulatedOutbox
    var observer: SimulatedObserver
    /// What acts under this node's lease (issue 15); re-registered with every new incarnation.
    var holders: SimulatedHolders
    var condition: Condition = .up
    /// Bumped on every restart, so messages addressed to a dead incarnation are dropped (its TCP
    /// connections died with it) and its wake-ups are ignored.
    var incarnation = 0
    /// The pending wake-up (as the server's timer would be set) and a counter that voids older ones.
    var wakeAt: MonotonicInstant?
    var wakeGeneration = 0
    /// Messages that arrived while paused, delivered in order on resume.
    var inbox: [(message: Message, from: NodeID)] = []
    /// Issue 15: whether the node is eligible, as its data directory keeps it (a restart reads it),
    /// and what its running driver was last told (a paused node catches up when it resumes).
    var eligible = true
    var driverEligible = true

    var isUp: Bool { condition == .up }
}

/// The simulator's virtual time, shared by every node's clock.
final class VirtualTimeSource {
    var now = VirtualTime.zero
}

/// A node's host clock: `offset + rate × virtual time`. Rates differ between nodes by up to the
/// documented clock-drift bound, so leases are checked against real drift.
final class SimulatedClock: MonotonicClock {
    let source: VirtualTimeSource
    /// Local nanoseconds per virtual nanosecond.
    let rate: Double
    let offset: UInt64

    init(source: VirtualTimeSource, rate: Double, offset: UInt64) {
        self.source = source
        self.rate = rate
        self.offset = offset
    }

    var now: MonotonicInstant { instant(at: source.now) }

    func instant(at time: VirtualTime) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: offset + UInt64((Double(time.microseconds) * 1000 * rate).rounded(.down)))
    }

    /// The first virtual microsecond at which this clock reads `instant` or later.
    func virtualTime(reaching instant: MonotonicInstant) -> VirtualTime {
        guard instant.nanoseconds > offset else { return .zero }
        var micros = UInt64((Double(instant.nanoseconds - offset) / (1000 * rate)).rounded(.up))
        while self.instant(at: VirtualTime(microseconds: micros)) < instant { micros += 1 }
        return VirtualTime(microseconds: micros)
    }
}

/// A disk that keeps the last hard state saved, and fails saves while ``failing`` is set (the write
/// or the fsync fails; the previous state stays, as the real store's rename guarantees).
final class SimulatedDisk: DurableStateStore {
    struct WriteFailed: Error, CustomStringConvertible {
        var description: String { "simulated disk failure (write or fsync failed)" }
    }

    private(set) var state: HardState = .initial
    var failing = false
    /// States saved since the simulator last looked, for the single-vote check.
    var saved: [HardState] = []

    func save(_ state: HardState) throws {
        if failing { throw WriteFailed() }
        self.state = state
        saved.append(state)
    }

    func fork() -> SimulatedDisk {
        let copy = SimulatedDisk()
        copy.state = state
        copy.failing = failing
        copy.saved = saved
        return copy
    }
}

/// Collects what a node sends, with the durable state at the instant of each send (for the
/// persist-before-send check), until the simulator puts it on the virtual network.
final class SimulatedOutbox: MessageOutbox {
    let disk: SimulatedDisk
    var sent: [(message: Message, to: NodeID, durable: HardState)] = []

    init(disk: SimulatedDisk) { self.disk = disk }

    func send(_ message: Message, to peer: NodeID) -> SendOutcome {
        sent.append((message, peer, disk.state))
        return .queued
    }
}

/// Collects what a node's driver reports until the simulator traces and checks it.
final class SimulatedObserver: NodeDriverObserver {
    var batches: [[Action]] = []
    var brokenPromises: [String] = []
    var halts: [Halt] = []
    var releases: [Term] = []

    func executed(_ actions: [Action], at instant: MonotonicInstant) { batches.append(actions) }
    func timerPromiseBroken(_ detail: String, at instant: MonotonicInstant) { brokenPromises.append(detail) }
    func halted(_ halt: Halt) { halts.append(halt) }
    func leaseReleased(term: Term, at instant: MonotonicInstant) { releases.append(term) }
}
