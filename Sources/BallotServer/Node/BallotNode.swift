import BallotCore
import BallotRuntime
import Logging
import NIOCore
import NIOPosix

/// One node on its NIO event loop: a thin actor around BallotRuntime's ``NodeDriver``, which owns
/// the core, its clock and the order of its actions.
///
/// What the actor adds is what needs an event loop: a timer that wakes the driver when its core
/// says a tick may act (``NodeDriver/nextWake``), serialized access for the transport, the HTTP
/// routes and graceful shutdown, and waiting for a transfer's outcome. Its executor is the loop
/// the node's peer connections run on, so a frame reaches the driver with no thread switch.
public actor BallotNode {
    public nonisolated let id: NodeID
    /// The loop the node runs on; its peer connections and timers must use it too.
    public nonisolated let eventLoop: any EventLoop
    public nonisolated let membership: Membership
    public nonisolated let tick: Duration
    public nonisolated let electionTimeout: Duration
    /// How long the node holds off campaigning after a resignation that names no hold-off
    /// (`resign_hold_off`; default one election timeout).
    public nonisolated let resignHoldOff: Duration
    public nonisolated let recorder: MetricsRecorder
    /// The node's leadership view: read it from anywhere, without waiting on the node.
    public nonisolated let view: LeadershipView
    /// What every member advertises about itself (its HTTP URL), this node included.
    public nonisolated let members: MemberDirectory
    nonisolated let outbox: PeerOutbox
    /// Where `eligible` is kept across restarts; `nil` keeps it in memory only (tests, Bully, Ring).
    nonisolated let candidacyStore: CandidacyStore?

    let driver: NodeDriver
    let effects: NodeEffects
    let logger: Logger
    /// The pending wake-up, the instant it is set for, and how ``runClock()`` ends.
    var wakeTimer: Scheduled<Void>?
    var wakeTarget: MonotonicInstant = .zero
    var clockStopped: EventLoopPromise<Void>?

    public init(
        core: any ElectionAlgorithm, tick: Duration, electionTimeout: Duration, store: HardStateStore,
        outbox: PeerOutbox, recorder: MetricsRecorder, logger: Logger, members: MemberDirectory? = nil,
        candidacyStore: CandidacyStore? = nil, resignHoldOff: Duration? = nil,
        leaseRelease: LeaseRelease = .holders, printEvents: Bool = false,
        eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any()
    ) {
        precondition(recorder.view.node == core.id, "the recorder must follow this node's view")
        self.id = core.id
        self.eventLoop = eventLoop
        self.membership = core.membership
        self.tick = tick
        self.electionTimeout = electionTimeout
        self.resignHoldOff = resignHoldOff ?? electionTimeout
        self.recorder = recorder
        self.view = recorder.view
        self.outbox = outbox
        self.members = members ?? MemberDirectory(local: core.id, localInfo: .none)
        self.candidacyStore = candidacyStore
        self.logger = logger
        let effects = NodeEffects(recorder: recorder, logger: logger, printEvents: printEvents)
        self.effects = effects
        driver = NodeDriver(
            core: core, tick: tick, electionTimeout: electionTimeout, store: store, outbox: outbox,
            clock: SystemMonotonicClock(), view: recorder.view, observer: effects)
        driver.releasesLeases = leaseRelease == .holders
        // A holder confirmed or left (from an HTTP handler or a whileLeader body): the driver checks,
        // on this actor, whether the ended lease can be released.
        recorder.view.onHolderChange { [weak self] in
            guard let self else { return }
            Task { await self.releaseLeaseIfHoldersStopped() }
        }
    }

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        eventLoop.executor.asUnownedSerialExecutor()
    }

    // MARK: Inputs

    /// Delivers a message from an authenticated peer connection.
    public func receive(_ message: Message, from peer: NodeID, bytes: Int) {
        recorder.messageReceived(message.kind, bytes: bytes)
        driver.receive(message, from: peer)
        armWakeTimer()
    }

    /// The transport's evidence that `peer`'s process is gone (connection dropped, reconnect refused).
    public func peerUnreachable(_ peer: NodeID) {
        driver.peerUnreachable(peer)
        armWakeTimer()  // The stagger brings the election timer forward.
    }

    /// Starts a leadership transfer and waits until it ends (at most about one election timeout).
    public func transferLeadership(to target: NodeID) async throws(TransferRefusal) -> TransferOutcome {
        try driver.transferLeadership(to: target)
        armWakeTimer()
        // The outcome comes as a later action; nothing runs on this actor before the wait is set.
        return await withCheckedContinuation { effects.awaitTransfer(to: target, $0) }
    }

    /// Issue 15: releases the ended lease if every holder stopped (see ``LeaseHolders``).
    public func releaseLeaseIfHoldersStopped() {
        driver.releaseLeaseIfHoldersStopped()
        armWakeTimer()
    }

    /// Graceful exit (thesis §3.10): a leader first hands over to the most up-to-date follower and
    /// waits for the outcome, then gives up whatever leadership is left.
    public func shutDown() async {
        driver.deliverDueTicks()
        if driver.status.role == .leader, let target = driver.preferredTransferTarget {
            logger.info("shutting down as leader: transferring leadership",
                        metadata: ["event": "shutdown_transfer_started", "to": "\(target)"])
            let outcome = (try? await transferLeadership(to: target)) ?? .abandoned
            logger.info("transfer before shutdown ended",
                        metadata: ["event": "shutdown_transfer_finished", "outcome": "\(outcome.rawValue)"])
        }
        driver.shutdown()
    }

    // MARK: Questions

    /// Delivers the ticks due by now, so that a question is answered from a current view.
    public func catchUp() {
        driver.deliverDueTicks()
        armWakeTimer()
    }

    /// Leadership as of now, with the lease judged at this instant.
    public var leadership: Leadership {
        catchUp()
        return view.current.leadership(at: driver.now)
    }

    /// The core's beliefs, with the ticks due by now delivered first.
    public var status: NodeStatus {
        catchUp()
        return driver.status
    }

    /// Why the node stopped taking part in elections, if it did.
    public var halt: Halt? { driver.halt }

    /// The most recent heartbeat round trip to `peer`.
    func lastRoundTrip(to peer: NodeID) -> Duration? { driver.lastRoundTrip(to: peer) }
}

/// Reasons a node cannot keep running.
public enum StartupError: Error, CustomStringConvertible {
    case halted(Halt)

    public var description: String {
        switch self {
        case .halted(let halt): "stopped because hard state could not be persisted: \(halt.detail)"
        }
    }
}
