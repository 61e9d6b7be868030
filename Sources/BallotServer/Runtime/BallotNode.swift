import BallotCore
import BallotWire
import Logging
import NIOCore
import NIOPosix

/// One node's runtime: owns the election core and carries out its actions — persistence first,
/// then messages — and answers questions about leadership.
///
/// All access to the core is serialized by the actor, whose executor is one NIO event loop: the
/// node's peer connections and its tick timer live on that loop too, so a frame or a tick reaches
/// the core without a thread switch. Nothing here blocks on the network: messages go to a
/// ``PeerOutbox`` that drops rather than waits.
public actor BallotNode {
    public nonisolated let id: NodeID
    /// The loop the node runs on; its peer connections and timers must use it too.
    public nonisolated let eventLoop: any EventLoop
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
    /// The pending wake-up of ``runClock()``, the tick it is set for, and how the clock ends.
    var tickTimer: Scheduled<Void>?
    var tickTimerTarget: UInt64 = 0
    var clockStopped: EventLoopPromise<Void>?
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
        outbox: PeerOutbox, recorder: MetricsRecorder, logger: Logger,
        eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any()
    ) {
        self.id = core.id
        self.eventLoop = eventLoop
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

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        eventLoop.executor.asUnownedSerialExecutor()
    }

    // MARK: Inputs

    /// Delivers a message from an authenticated peer connection.
    public func receive(_ message: Message, from peer: NodeID, bytes: Int) {
        recorder.messageReceived(message.kind, bytes: bytes)
        defer { armTickTimer() }
        deliverDueTicks()
        if case .heartbeatResponse(let response) = message { noteAcknowledgement(response, from: peer) }
        guard halted == nil else { return }
        execute(core.receive(message, from: peer))
    }

    /// The transport's evidence that `peer`'s process is gone (connection dropped, reconnect refused).
    public func peerUnreachable(_ peer: NodeID) {
        defer { armTickTimer() }  // The stagger brings the election timer forward.
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
            armTickTimer()
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
        deliverDueTicks()
        let status = core.status
        return Leadership(leader: status.leader, term: status.term, isSelf: leaseIsValid(status, at: clock.now))
    }

    /// The core's beliefs, with the ticks due by now delivered first.
    public var status: NodeStatus {
        deliverDueTicks()
        return core.status
    }
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
