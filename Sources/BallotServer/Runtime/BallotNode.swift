import BallotCore
import BallotWire
import Logging

/// One node's runtime: owns the election core and carries out its actions — persistence first,
/// then messages — and answers questions about leadership.
///
/// All access to the core is serialized by the actor. Nothing here blocks on the network: messages
/// go to a ``PeerOutbox`` that drops rather than waits.
public actor BallotNode {
    public nonisolated let id: NodeID
    public nonisolated let membership: Membership
    public nonisolated let tick: Duration
    public nonisolated let electionTimeout: Duration
    public nonisolated let recorder: MetricsRecorder
    nonisolated let outbox: PeerOutbox
    let store: HardStateStore
    let logger: Logger
    let clock = ContinuousClock()

    var core: any ElectionAlgorithm
    /// Instant of logical tick 0: tick k is due at `origin + k·tick`, so a tick count maps back to
    /// monotonic time even when ticks were delivered late (a paused process).
    var origin: ContinuousClock.Instant
    /// Logical ticks the core has had; ``deliverDueTicks()`` tops them up to those due by now.
    var deliveredTicks: UInt64 = 0
    /// Set by ``startClock(at:)``: before it, no tick is due.
    var clockStarted = false
    /// Set once persistence failed: the node must not act on state it could not make durable.
    var halted: StateStoreError?
    var knownLeader: LeaderInfo?
    var leaderlessSince: ContinuousClock.Instant
    var heartbeatsInFlight: [NodeID: [HeartbeatInFlight]] = [:]
    var lastRoundTrip: [NodeID: Duration] = [:]
    var transferWaiters: [NodeID: [CheckedContinuation<TransferOutcome, Never>]] = [:]
    var subscribers: [Int: AsyncStream<LeadershipEvent>.Continuation] = [:]
    var nextSubscriber = 0
    var recentChanges: [LeadershipChangeRecord] = []
    /// Told every time this node's lease deadline moves (see ``observeLease(_:)``).
    var leaseObserver: (@Sendable (LeaseChange) -> Void)?
    /// The lease as last reported to `leaseObserver`: nil when none is held.
    var reportedLease: LeaseChange?

    struct HeartbeatInFlight {
        let term: Term
        let sequence: UInt64
        let sentAt: ContinuousClock.Instant
    }

    public init(
        core: any ElectionAlgorithm, tick: Duration, electionTimeout: Duration, store: HardStateStore,
        outbox: PeerOutbox, recorder: MetricsRecorder, logger: Logger
    ) {
        self.id = core.id
        self.membership = core.membership
        self.core = core
        self.tick = tick
        self.electionTimeout = electionTimeout
        self.store = store
        self.outbox = outbox
        self.recorder = recorder
        self.logger = logger
        let now = ContinuousClock.now
        origin = now
        leaderlessSince = now
        recorder.startedUp(at: now, status: core.status)
    }

    // MARK: Inputs

    /// Delivers `count` logical ticks (more than one after the process was held up).
    public func tick(count: UInt64) {
        for _ in 0..<count where halted == nil {
            deliveredTicks += 1
            // A tick that changes nothing (most of them) changes nothing the recorder tracks either:
            // role, term, leader, lease and last contact only move with actions or messages.
            let actions = core.tick()
            if !actions.isEmpty { execute(actions) }
        }
    }

    /// Delivers every tick due by now (tick k is due at `origin + k·tick`) that the core has not had
    /// yet, and returns how many ticks it has had in all. Runs before every other input, so the core
    /// never handles a message with a stale clock: a voter that was paused (or starved of CPU) and
    /// read a queued heartbeat before its missed ticks would promise stickiness only until a tick
    /// already in the past — shorter than the lease the leader counts on (found by the fault suite's
    /// analysis, reproduced in BallotSimulationTests' PausedVoterTests).
    @discardableResult
    public func deliverDueTicks() -> UInt64 {
        guard clockStarted else { return deliveredTicks }
        let elapsed = clock.now - origin
        let due = elapsed > .zero ? UInt64((elapsed / tick).rounded(.down)) : 0
        if due > deliveredTicks { tick(count: due - deliveredTicks) }
        return deliveredTicks
    }

    /// One actor hop per tick for the driver: deliver what is due and say whether the node halted.
    func deliverDueTicksReportingHalt() -> (delivered: UInt64, halt: StateStoreError?) {
        (deliverDueTicks(), halted)
    }

    /// Delivers a message from an authenticated peer connection.
    public func receive(_ message: Message, from peer: NodeID, bytes: Int) {
        recorder.messageReceived(message.kind, bytes: bytes)
        deliverDueTicks()
        if case .heartbeatResponse(let response) = message { noteAcknowledgement(response, from: peer) }
        guard halted == nil else { return }
        execute(core.receive(message, from: peer))
    }

    /// The transport's evidence that `peer`'s process is gone (connection dropped, reconnect refused).
    public func peerUnreachable(_ peer: NodeID) {
        deliverDueTicks()
        guard halted == nil else { return }
        execute(core.peerUnreachable(peer))
    }

    /// Starts a leadership transfer and waits until it ends (at most about one election timeout).
    public func transferLeadership(to target: NodeID) async throws(TransferRefusal) -> TransferOutcome {
        deliverDueTicks()
        guard halted == nil else { throw .notLeader(knownLeader: nil) }
        let actions = try core.transferLeadership(to: target)
        return await withCheckedContinuation { continuation in
            transferWaiters[target, default: []].append(continuation)
            execute(actions)
        }
    }

    /// Graceful exit (thesis §3.10): a leader first hands over to the most up-to-date follower and
    /// waits for the outcome, then gives up whatever leadership is left.
    public func shutDown() async {
        if core.status.role == .leader, let target = core.preferredTransferTarget {
            logger.info("shutting down as leader: transferring leadership", metadata: ["to": "\(target)"])
            let outcome = (try? await transferLeadership(to: target)) ?? .abandoned
            logger.info("transfer before shutdown ended", metadata: ["outcome": "\(outcome.rawValue)"])
        }
        if halted == nil { execute(core.shutdown()) }
        for (_, continuation) in subscribers { continuation.finish() }
        subscribers.removeAll()
    }

    // MARK: Questions

    /// Leadership as of now, with the lease checked against the monotonic clock at this instant.
    public var leadership: Leadership {
        let status = core.status
        return Leadership(leader: status.leader, term: status.term, isSelf: leaseIsValid(status, at: clock.now))
    }

    public var status: NodeStatus { core.status }
    public var haltReason: StateStoreError? { halted }
    public var leadershipChanges: [LeadershipChangeRecord] { recentChanges }

    /// A stream of leadership changes as they happen here, starting with the current state.
    public func leadershipEvents() -> AsyncStream<LeadershipEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: LeadershipEvent.self, bufferingPolicy: .bufferingNewest(64))
        let key = nextSubscriber
        nextSubscriber += 1
        subscribers[key] = continuation
        if let knownLeader {
            continuation.yield(.elected(leader: knownLeader.id, term: knownLeader.term,
                                        isSelf: knownLeader.id == id, leaderlessFor: .zero))
        }
        continuation.onTermination = { _ in Task { await self.unsubscribe(key) } }
        return stream
    }

    func unsubscribe(_ key: Int) { subscribers[key] = nil }

    /// Calls `observer` synchronously, inside the node, whenever the lease deadline this node would
    /// report moves: when the lease begins, each time an acknowledgement extends it, and when it ends
    /// early (step-down, transfer, shutdown). `ballot serve --events` prints these as `event=lease`
    /// lines so that a supervisor can check that no two nodes ever hold a lease at the same instant.
    public func observeLease(_ observer: @escaping @Sendable (LeaseChange) -> Void) {
        leaseObserver = observer
    }

    /// Marks the instant logical time starts; call right before the first tick is scheduled.
    public func startClock(at instant: ContinuousClock.Instant) {
        origin = instant
        clockStarted = true
    }

    func instant(ofTick tick: UInt64) -> ContinuousClock.Instant {
        origin + self.tick * Int(clamping: tick)
    }

    /// The lease is valid until the instant its expiry tick is due, whatever the core's tick count
    /// says: a process that was paused must not report a lease it lost while asleep.
    func leaseIsValid(_ status: NodeStatus, at now: ContinuousClock.Instant) -> Bool {
        guard status.role == .leader, let expiry = status.leaseExpiry else { return false }
        if expiry == UInt64.max { return true }
        return status.now < expiry && now < instant(ofTick: expiry)
    }
}

/// One entry of the recent leadership history shown on `/status`.
public struct LeadershipChangeRecord: Hashable, Sendable {
    public var leader: NodeID?
    public var term: Term
    /// Wall-clock time of the change, Unix seconds (for display only).
    public var unixTime: Double
    /// How long this node had no leader before this one (zero for a loss).
    public var leaderless: Duration
}
