import BallotCore
import BallotRuntime
import Synchronization

/// One node's leadership changes, encoded once, for every `/events` subscriber and every blocking
/// `GET /leader?index=` query at once.
///
/// The view's listener (on the node's own event loop) only encodes the event and appends it to a
/// bounded shared log — constant work however many clients watch — and wakes one pump task. The
/// pump, off the node's loop, wakes the subscribers, each of which then copies what it has not
/// sent yet. Every 15 s the pump also wakes everyone for a keep-alive.
///
/// **Never merging a loss away**: the log keeps the last ``capacity`` events, lease extensions
/// included; a subscriber that falls further behind (a client that stopped reading) is told it
/// overflowed, and its stream is closed — its client reconnects and starts from the state. Nothing
/// is ever skipped silently.
public final class LeadershipEventHub: Sendable {
    /// Events kept for subscribers that lag: at ten lease extensions a second, over six minutes.
    public static let capacity = 4096
    /// How often an idle stream gets a comment line.
    public static let keepAliveInterval = Duration.seconds(15)

    /// What a subscriber gets when it asks for more.
    enum Delivery {
        case events([ServerSentEvent])
        case keepAlive
        /// It fell more than ``capacity`` events behind.
        case overflowed
        case closed
    }

    private struct State {
        var log: [ServerSentEvent] = []
        /// The sequence number of `log[0]`; `next` is one past the newest event.
        var first: UInt64 = 0
        var next: UInt64 = 0
        /// The view's index as of the newest event (or the hub's start).
        var index: UInt64 = 0
        var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]
        var nextWaiter = 0
        /// The pump's wait, and whether a wake-up (event or keep-alive) is pending for it.
        var pump: CheckedContinuation<Void, Never>?
        var pumpWakeups = 0
        var keepAliveDue = false
        var keepAliveRound = 0
        var closed = false
        var token: LeadershipView.ListenerToken?
        /// The lease deadline as the view's lease events last moved it (nil: no lease; `.max`: one
        /// without end), so a subscriber judges `is_leader` at the instant it writes without
        /// copying the view's state.
        var leaseUntil: UInt64?
        /// The deadline of the last lease event put in the log (extensions in between are not).
        var publishedUntil: UInt64?
    }

    let view: LeadershipView
    private let state = Mutex(State())
    private let tasks = Mutex<[Task<Void, Never>]>([])

    public init(view: LeadershipView) {
        self.view = view
        let registration = view.addListener { [weak self] event in self?.append(event) }
        let now = SystemMonotonicClock.now
        state.withLock {
            $0.token = registration.token
            $0.index = registration.state.index
            $0.leaseUntil = Self.leaseUntil(of: registration.state, at: now)
        }
        let pump = Task { [weak self] () async -> Void in await self?.runPump() }
        let ticker = Task { [weak self] () async -> Void in
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.keepAliveInterval)
                self?.wake(keepAlive: true)
            }
        }
        tasks.withLock { $0 = [pump, ticker] }
    }

    /// Stops the pump and the keep-alive timer and ends every stream.
    public func close() {
        let (waiters, pump, token) = state.withLock { state in
            state.closed = true
            defer {
                state.waiters.removeAll()
                state.pump = nil
                state.token = nil
            }
            return (Array(state.waiters.values), state.pump, state.token)
        }
        if let token { view.removeListener(token) }
        for waiter in waiters { waiter.resume(returning: false) }
        pump?.resume()
        for task in tasks.withLock({ $0 }) { task.cancel() }
    }

    /// The view's index as the hub last saw it.
    var index: UInt64 { state.withLock { $0.index } }

    /// Whether this node holds a valid lease at `now`, by the view's lease events (the same answer
    /// as `LeadershipState.isLeader(at:)`: the view ends the lease on a step-down or a halt).
    func isLeader(at now: MonotonicInstant) -> Bool {
        state.withLock { state in state.leaseUntil.map { now.nanoseconds < $0 } ?? false }
    }

    private static func leaseUntil(of state: LeadershipState, at now: MonotonicInstant) -> UInt64? {
        guard state.isLeader(at: now) else { return nil }
        return state.lease.deadline?.nanoseconds ?? .max
    }

    /// How many subscribers and blocking queries wait now (for tests and the benchmark).
    public var waiting: Int { state.withLock { $0.waiters.count } }

    // MARK: Producing (the node's loop)

    private func append(_ event: LeadershipEvent) {
        let current = view.current
        let logged = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            if case .lease(let change, _) = event {
                state.leaseUntil = change.ends ? nil : (change.until?.nanoseconds ?? .max)
                guard Self.publishes(change, changesIndex: event.index != state.index, after: state.publishedUntil) else {
                    return false
                }
                state.publishedUntil = change.ends ? nil : change.until?.nanoseconds
            }
            let encoded = ServerSentEvent(event: event, node: view.node, changesIndex: event.index != state.index,
                                          leader: current.leader?.id)
            state.log.append(encoded)
            state.next += 1
            state.index = event.index
            if state.log.count > Self.capacity {
                state.log.removeFirst(state.log.count - Self.capacity)
                state.first = state.next - UInt64(state.log.count)
            }
            return true
        }
        if logged { wake(keepAlive: false) }
    }

    /// Whether a lease event goes to subscribers. Every begin and every end does; an extension only
    /// once the deadline has moved by a quarter of the lease since the last one sent. A leader
    /// extends its lease with every acknowledged heartbeat round — ten times a second by default —
    /// and sending each to thousands of subscribers would cost more than it tells them: with this
    /// rule the deadline a subscriber knows is always at least three quarters of a lease ahead
    /// while the lease holds, at a quarter of the writes.
    static func publishes(_ change: LeaseChange, changesIndex: Bool, after published: UInt64?) -> Bool {
        guard !change.ends, !changesIndex, let until = change.until?.nanoseconds, let published,
              until > change.at.nanoseconds
        else { return true }
        let lease = until - change.at.nanoseconds
        return until >= published &+ lease / 4
    }

    /// Wakes the pump, once however many events come before it runs.
    private func wake(keepAlive: Bool) {
        let pump = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if keepAlive { state.keepAliveDue = true }
            state.pumpWakeups += 1
            defer { state.pump = nil }
            return state.pump
        }
        pump?.resume()
    }

    /// Off the node's loop: wakes every waiting subscriber whenever something happened.
    private func runPump() async {
        while true {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if state.pumpWakeups > 0 || state.closed { return true }
                    state.pump = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
            let (waiters, closed) = state.withLock { state -> ([CheckedContinuation<Bool, Never>], Bool) in
                state.pumpWakeups = 0
                if state.keepAliveDue {
                    state.keepAliveDue = false
                    state.keepAliveRound += 1
                }
                defer { state.waiters.removeAll(keepingCapacity: true) }
                return (Array(state.waiters.values), state.closed)
            }
            for waiter in waiters { waiter.resume(returning: true) }
            if closed { return }
        }
    }

    // MARK: Consuming (each subscriber's task)

    /// Where a new subscriber starts: after every event its state already includes.
    struct Cursor: Sendable {
        var next: UInt64
        /// Events that moved the index up to this were already in the state the stream began with.
        var stateIndex: UInt64
        var keepAliveRound: Int
    }

    /// The current state and a cursor just after it: events the state already shows are skipped,
    /// whichever order the view and the hub saw them in.
    func subscribe() -> (state: LeadershipState, cursor: Cursor) {
        let (next, round) = state.withLock { ($0.next, $0.keepAliveRound) }
        let current = view.current
        // The view may have moved past events the hub has not appended yet: those are skipped
        // when they arrive, by index.
        return (current, Cursor(next: next, stateIndex: current.index, keepAliveRound: round))
    }

    /// The events after `cursor`, waiting for one if there is none yet (or a keep-alive round).
    func next(after cursor: inout Cursor) async -> Delivery {
        while true {
            let immediate = state.withLock { state -> Delivery? in
                if state.closed { return .closed }
                if cursor.next < state.first { return .overflowed }
                if cursor.next < state.next {
                    let pending = state.log[Int(cursor.next - state.first)...]
                    var events: [ServerSentEvent] = []
                    events.reserveCapacity(pending.count)
                    for (offset, event) in pending.enumerated() {
                        // Already in the state the stream began with.
                        if event.changesIndex && event.index <= cursor.stateIndex { continue }
                        // A lease extension followed by another of the same term is superseded by it.
                        if event.isExtension, offset + 1 < pending.count,
                           pending[pending.startIndex + offset + 1].isExtension,
                           pending[pending.startIndex + offset + 1].term == event.term {
                            continue
                        }
                        events.append(event)
                    }
                    cursor.next = state.next
                    if !events.isEmpty { return .events(events) }
                }
                if state.keepAliveRound != cursor.keepAliveRound {
                    cursor.keepAliveRound = state.keepAliveRound
                    return .keepAlive
                }
                return nil
            }
            if let immediate { return immediate }
            let seen = cursor
            guard await waitForWake(unless: { $0.next != seen.next || $0.keepAliveRound != seen.keepAliveRound }) else {
                return .closed
            }
        }
    }

    /// Waits until the view's index exceeds `index`, or `timeout` passes; returns whether it did.
    func waitForIndex(above index: UInt64, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (current, closed) = state.withLock { ($0.index, $0.closed) }
            if current > index || view.current.index > index { return true }
            if closed || ContinuousClock.now >= deadline { return false }
            // Woken by every event and every keep-alive round; the deadline is checked by a timer.
            let remaining = deadline - ContinuousClock.now
            let seen = current
            await withTaskGroup(of: Void.self) { group in
                group.addTask { _ = await self.waitForWake(unless: { $0.index != seen }) }
                group.addTask { try? await Task.sleep(for: remaining) }
                await group.next()
                group.cancelAll()
            }
            if Task.isCancelled { return view.current.index > index }
        }
    }

    /// One wake-up of the pump; false once the hub closed or the task was cancelled. Returns at
    /// once if `changed` holds when the waiter is registered (something happened since the caller
    /// looked), so no wake-up is ever missed.
    private func waitForWake(unless changed: @escaping @Sendable (State) -> Bool) async -> Bool {
        let key = state.withLock { state -> Int in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let immediate = state.withLock { state -> Bool? in
                    if state.closed || Task.isCancelled { return false }
                    if changed(state) { return true }
                    state.waiters[key] = continuation
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: key) }
            waiter?.resume(returning: false)
        }
    }
}
