import BallotCore

/// Drives one election core: owns the core, its logical clock and the order in which its actions
/// are carried out, and keeps the node's ``LeadershipView``. The server and the simulator run this
/// very type; they differ only in what they plug into its ports (a state file or a virtual disk,
/// TCP connections or a simulated network, the machine's clock or a virtual one).
///
/// Three rules make it safe, whoever drives it:
/// - **Due ticks before every input.** Every tick due by the clock is delivered before a message,
///   a transfer or a question is handled, so the core never acts on a stale clock. (A voter resumed
///   from a pause that read a queued heartbeat first would promise stickiness only until a tick
///   already past — shorter than the lease the leader counts on; found by the fault suite.)
/// - **Persist before anything after it.** A ``Action/persist(_:)`` is saved through the
///   ``DurableStateStore`` before the next action of its batch runs; if saving fails the node
///   halts and acts on nothing more (Raft Figure 2).
/// - **The lease is a deadline on the clock.** The core's lease expiry tick is projected onto the
///   monotonic clock (`origin + expiry·tick`), so the lease ends at that instant whatever tick the
///   core has reached — a paused process never reports a lease that ran out while it slept.
///
/// Not thread-safe: one owner drives it (the node's actor on its event loop, or the simulator).
/// Its ``view`` is safe to read from anywhere.
public final class NodeDriver {
    public let id: NodeID
    public let membership: Membership
    /// The node's leadership view, kept by this driver.
    public let view: LeadershipView
    /// The election timeout T as a duration: unacknowledged heartbeats older than this count as
    /// failed, and a follower that heard nothing from its leader for this long is not ready.
    public let electionTimeout: Duration
    public private(set) var clock: LogicalClock
    /// Set once persisting failed: the node acts on nothing more.
    public private(set) var halt: Halt?
    public var observer: (any NodeDriverObserver)?

    private var core: any ElectionAlgorithm
    private let store: any DurableStateStore
    private let outbox: any MessageOutbox
    private let time: any MonotonicClock
    private var roundTrips = RoundTripTracker()
    /// When each peer's latest message arrived: the "last contact" the status page and
    /// `GET /status` show per peer (on a leader, every follower's heartbeat acknowledgements).
    private var lastHeard: [NodeID: MonotonicInstant] = [:]

    /// Issue 15, released hand-overs: whether an ended lease is released as soon as every holder
    /// registered with the view confirmed it stopped (see ``LeaseHolders``). Off, a successor's
    /// lease always waits for the published deadline (`--lease-release deadline`).
    public var releasesLeases = true

    /// Whether inputs first deliver the ticks due by now. Always true in a real node; the simulator
    /// turns it off only to show that the lease check catches the order this rule prevents.
    package var deliversDueTicksBeforeInputs = true

    /// - Parameters:
    ///   - core: the election core, built from the node's durable state.
    ///   - tick: the length of one logical tick.
    ///   - electionTimeout: T as a duration (`electionTimeoutTicks × tick`).
    public convenience init(
        core: any ElectionAlgorithm, tick: Duration, electionTimeout: Duration, store: any DurableStateStore,
        outbox: any MessageOutbox, clock: any MonotonicClock, view: LeadershipView? = nil,
        observer: (any NodeDriverObserver)? = nil
    ) {
        self.init(core: core, tick: tick, electionTimeout: electionTimeout, store: store, outbox: outbox, clock: clock,
                  view: view, observer: observer, startingView: true)
    }

    private init(
        core: any ElectionAlgorithm, tick: Duration, electionTimeout: Duration, store: any DurableStateStore,
        outbox: any MessageOutbox, clock: any MonotonicClock, view: LeadershipView?,
        observer: (any NodeDriverObserver)?, startingView: Bool
    ) {
        self.id = core.id
        self.membership = core.membership
        self.core = core
        self.clock = LogicalClock(tick: tick)
        self.electionTimeout = electionTimeout
        self.store = store
        self.outbox = outbox
        self.time = clock
        self.observer = observer
        self.view = view ?? LeadershipView(node: core.id)
        if startingView {
            let status = core.status
            self.view.start(at: clock.now, role: status.role, term: status.term)
        }
    }

    /// An independent driver in the same state, on other ports: the simulator forks a history to
    /// try two futures from one past (its scripted scenarios). Nothing in a real node forks.
    package func fork(
        store: any DurableStateStore, outbox: any MessageOutbox, clock: any MonotonicClock,
        observer: (any NodeDriverObserver)?
    ) -> NodeDriver {
        let copy = NodeDriver(
            core: core, tick: self.clock.tick, electionTimeout: electionTimeout, store: store, outbox: outbox,
            clock: clock, view: view.fork(), observer: observer, startingView: false)
        copy.clock = self.clock
        copy.halt = halt
        copy.roundTrips = roundTrips
        copy.lastHeard = lastHeard
        copy.deliversDueTicksBeforeInputs = deliversDueTicksBeforeInputs
        copy.releasesLeases = releasesLeases
        return copy
    }

    // MARK: Time

    /// Starts logical time now: tick k is due `k · tick` from here.
    public func startClock() {
        clock.start(at: time.now)
    }

    /// Delivers every tick due by now that the core has not had, and ends a lease whose deadline
    /// passed. Returns the ticks delivered in all.
    @discardableResult
    public func deliverDueTicks() -> UInt64 {
        let now = time.now
        let due = clock.ticksDue(at: now)
        var delivered: UInt64 = 0
        while delivered < due, halt == nil {
            delivered += 1
            clock.delivered(1)
            tickCore(at: now)
        }
        view.expireLease(at: now)
        return clock.deliveredTicks
    }

    /// One tick, holding the core to its ``ElectionAlgorithm/ticksUntilTimer`` promise: a tick it
    /// called quiet must produce nothing, and its countdown may not jump closer by itself.
    private func tickCore(at now: MonotonicInstant) {
        let promised = core.ticksUntilTimer
        let actions = core.tick()
        if promised > 1 {
            if !actions.isEmpty {
                observer?.timerPromiseBroken("node \(id) promised \(promised - 1) quiet ticks, yet one produced \(actions)", at: now)
            } else if core.ticksUntilTimer < promised - 1 {
                observer?.timerPromiseBroken(
                    "node \(id) promised \(promised - 1) quiet ticks, then \(core.ticksUntilTimer - 1) after one", at: now)
            }
        }
        if !actions.isEmpty { execute(actions, at: now) }
    }

    /// When the owner should next call ``deliverDueTicks()``: the tick the core says may act
    /// (quiet ticks before it are delivered late, together with it), or the lease deadline if that
    /// comes first. `nil` before the clock starts and once halted.
    public var nextWake: MonotonicInstant? {
        guard halt == nil, let timer = clock.instant(ofTick: clock.deliveredTicks + core.ticksUntilTimer) else {
            return nil
        }
        if let deadline = view.current.lease.deadline, deadline > time.now, deadline < timer { return deadline }
        return timer
    }

    // MARK: Inputs

    /// A message from an authenticated peer.
    public func receive(_ message: Message, from peer: NodeID) {
        if deliversDueTicksBeforeInputs { deliverDueTicks() }
        let now = time.now
        lastHeard[peer] = now
        if case .heartbeatResponse(let response) = message,
           let roundTrip = roundTrips.acknowledged(response, from: peer, at: now)
        {
            observer?.heartbeatAcknowledged(by: peer, after: roundTrip)
        }
        guard halt == nil else { return }
        // Even without actions: an acknowledged heartbeat extends the lease silently.
        execute(core.receive(message, from: peer), at: now, evenIfEmpty: true)
    }

    /// The transport's evidence that `peer`'s process is gone (its connection dropped, reconnecting
    /// was refused).
    public func peerUnreachable(_ peer: NodeID) {
        if deliversDueTicksBeforeInputs { deliverDueTicks() }
        guard halt == nil else { return }
        execute(core.peerUnreachable(peer), at: time.now)
    }

    /// Starts a leadership transfer; its outcome arrives later as ``Action/transferFinished(to:_:)``.
    public func transferLeadership(to target: NodeID) throws(TransferRefusal) {
        deliverDueTicks()
        guard halt == nil else { throw .notLeader(knownLeader: nil) }
        let actions = try core.transferLeadership(to: target)
        execute(actions, at: time.now)
    }

    /// Issue 15: hands leadership to the best eligible follower (or steps down) and holds off
    /// campaigning for `holdOff` after leadership ends.
    public func resign(holdOff: Duration) throws(TransferRefusal) {
        deliverDueTicks()
        guard halt == nil else { throw .notLeader(knownLeader: nil) }
        let actions = try core.resign(holdOffTicks: clock.ticks(covering: holdOff))
        execute(actions, at: time.now)
    }

    /// Issue 15: makes this node eligible to lead, or not (a leader made ineligible hands over).
    /// The caller keeps the setting durable; the core only acts on it.
    public func setEligible(_ eligible: Bool) throws(CandidacyRefusal) {
        deliverDueTicks()
        guard halt == nil else { return }
        let actions = try core.setEligible(eligible)
        execute(actions, at: time.now)
    }

    /// Issue 15: releases the lease that ended last if every holder has confirmed it stopped (the
    /// view calls its ``LeadershipView/onHolderChange(_:)`` handler when one did). Also done after
    /// every batch, so a lease with no holders is released as soon as it ends.
    public func releaseLeaseIfHoldersStopped() {
        deliverDueTicks()
        offerRelease(at: time.now)
    }

    /// Gives up whatever leadership is left, before the process exits.
    public func shutdown() {
        deliverDueTicks()
        guard halt == nil else { return }
        execute(core.shutdown(), at: time.now)
    }

    // MARK: Questions

    /// The core's beliefs as of its last input (call ``deliverDueTicks()`` first for "now").
    public var status: NodeStatus { core.status }

    /// The member a leader would hand over to before shutting down.
    public var preferredTransferTarget: NodeID? { core.preferredTransferTarget }

    /// The most recent heartbeat round trip to `peer`.
    public func lastRoundTrip(to peer: NodeID) -> Duration? { roundTrips.last[peer] }

    /// When the latest message from `peer` arrived (nil if none has since start-up).
    public func lastHeard(from peer: NodeID) -> MonotonicInstant? { lastHeard[peer] }

    /// The instant the clock reads now, as the driver sees it.
    public var now: MonotonicInstant { time.now }

    // MARK: Carrying out actions

    /// Carries out a batch in order, persisting before anything after it, then updates the view.
    /// An empty batch changes nothing the view shows unless it answered a message.
    private func execute(_ actions: [Action], at now: MonotonicInstant, evenIfEmpty: Bool = false) {
        guard !actions.isEmpty else {
            if evenIfEmpty { absorb(actions, at: now) }
            return
        }
        var carried = actions.count
        for (position, action) in actions.enumerated() {
            switch action {
            case .persist(let state):
                do {
                    try store.save(state)
                } catch {
                    halt = Halt(reason: .stateWriteFailed, detail: "\(error)")
                    carried = position
                }
            case .send(let message, let peer):
                send(message, to: peer, at: now)
            case .roleChanged, .leaderChanged, .campaignStarted, .campaignFinished, .steppedDown,
                .transferStarted, .transferFinished:
                break
            }
            if halt != nil { break }
        }
        observer?.executed(carried == actions.count ? actions : Array(actions[..<carried]), at: now)
        if let halt {
            view.halt(halt, at: now)
            observer?.halted(halt)
            return
        }
        absorb(actions, at: now)
        offerRelease(at: now)
    }

    /// Tells the core its ended lease may be released, when the view says every holder stopped.
    /// The core declines while it may still renew the lease (a leader not handing over); the offer
    /// is then made again after later batches.
    private func offerRelease(at now: MonotonicInstant) {
        guard releasesLeases, halt == nil, let term = view.releasableLease(at: now) else { return }
        let actions = core.leaseReleased(term: term)
        guard !actions.isEmpty else { return }
        view.noteLeaseReleased()
        observer?.leaseReleased(term: term, at: now)
        execute(actions, at: now)
    }

    /// Hands the batch and the core's beliefs after it to the view.
    private func absorb(_ actions: [Action], at now: MonotonicInstant) {
        let status = core.status
        view.absorb(actions, role: status.role, term: status.term, lease: lease(of: status),
                    lastContact: lastContact(of: status, at: now), at: now)
    }

    private func send(_ message: Message, to peer: NodeID, at now: MonotonicInstant) {
        let outcome = outbox.send(message, to: peer)
        guard case .heartbeat(let heartbeat) = message else { return }
        switch outcome {
        case .queued:
            let expired = roundTrips.sent(heartbeat, to: peer, at: now, expiry: electionTimeout)
            for _ in 0..<expired { observer?.heartbeatFailed(to: peer) }
        case .dropped:
            observer?.heartbeatFailed(to: peer)
        }
    }

    /// The core's lease expiry tick as a deadline on the clock.
    private func lease(of status: NodeStatus) -> Lease {
        guard status.role == .leader, let expiry = status.leaseExpiry, expiry > status.now else { return .none }
        if expiry == .max { return .unbounded }
        return clock.instant(ofTick: expiry).map(Lease.until) ?? .none
    }

    private func lastContact(of status: NodeStatus, at now: MonotonicInstant) -> MonotonicInstant? {
        if status.role == .leader { return now }
        return status.ticksSinceLeaderContact.map { now - clock.duration(ofTicks: $0) }
    }
}
