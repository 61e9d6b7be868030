import BallotCore
import BallotRuntime
import NIOCore
import Synchronization

/// One node's leadership changes, encoded once, for every `/events` subscriber and every blocking
/// `GET /leader?index=` query at once.
///
/// The view's listener (on the node's own event loop) only encodes the event and appends it to a
/// bounded shared log — constant work however many clients watch — and wakes one pump task. The
/// pump, off the node's loop, hands each HTTP event loop one batch: the events each of its
/// subscribers has not been sent, written straight into their connections with no task per
/// subscriber. Every 15 s the pump also writes a keep-alive comment.
///
/// **Never merging a loss away**: a subscriber is sent every event after the state it began with
/// (lease extensions thinned, see ``publishes(_:changesIndex:after:)``). Its buffer is its
/// connection's: a client that stops reading fills NIO's write buffer (its high-water mark) and is
/// disconnected, as is one that falls more than ``capacity`` events behind; it reconnects and
/// starts from the state. Nothing is ever skipped silently.
public final class LeadershipEventHub: Sendable {
    /// Events kept for subscribers that lag.
    public static let capacity = 4096
    /// How often an idle stream gets a comment line (/work/SSE-CONTRACT.md: every 15 s).
    public static let keepAliveInterval = Duration.seconds(15)

    /// Where a stream is in the log: the next event to send, and the index of the state it began
    /// with (events that moved the index up to it are already in that state).
    struct Cursor: Sendable, Hashable {
        var next: UInt64
        var stateIndex: UInt64
    }

    private struct Subscriber {
        let sink: HTTPStreamSink
        var cursor: Cursor
    }

    private struct State {
        var log: [ServerSentEvent] = []
        /// The sequence number of `log[0]`; `next` is one past the newest event.
        var first: UInt64 = 0
        var next: UInt64 = 0
        /// The view's index as of the newest event (or the hub's start).
        var index: UInt64 = 0
        var subscribers: [Int: Subscriber] = [:]
        var nextKey = 0
        /// Blocking queries waiting for the index to move.
        var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]
        /// The pump's wait, and whether a wake-up (event, new subscriber, keep-alive) is pending.
        var pump: CheckedContinuation<Void, Never>?
        var pumpWakeups = 0
        var keepAliveDue = false
        var closed = false
        var token: LeadershipView.ListenerToken?
        /// The lease deadline as the view's lease events last moved it (nil: no lease; `.max`: one
        /// without end), so a batch judges `is_leader` at the instant it is written without
        /// copying the view's state.
        var leaseUntil: UInt64?
        /// The deadline of the last lease event put in the log (extensions in between are not).
        var publishedUntil: UInt64?
    }

    let view: LeadershipView
    private let state = Mutex(State())
    private let tasks = Mutex<[Task<Void, Never>]>([])

    /// `keepAliveInterval` is the contract's 15 s; tests shorten it.
    public init(view: LeadershipView, keepAliveInterval: Duration = LeadershipEventHub.keepAliveInterval) {
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
                try? await Task.sleep(for: keepAliveInterval)
                self?.wake(keepAlive: true)
            }
        }
        tasks.withLock { $0 = [pump, ticker] }
    }

    /// Stops the pump and the keep-alive timer, closes every stream and answers every waiting query.
    public func close() {
        let (subscribers, waiters, pump, token) = state.withLock { state in
            state.closed = true
            defer {
                state.subscribers.removeAll()
                state.waiters.removeAll()
                state.pump = nil
                state.token = nil
            }
            return (Array(state.subscribers.values), Array(state.waiters.values), state.pump, state.token)
        }
        if let token { view.removeListener(token) }
        for subscriber in subscribers { subscriber.sink.close() }
        for waiter in waiters { waiter.resume(returning: false) }
        pump?.resume()
        for task in tasks.withLock({ $0 }) { task.cancel() }
    }

    /// Streams and blocking queries now (for tests and the benchmark).
    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }
    public var waiting: Int { state.withLock { $0.waiters.count } }

    /// Whether this node holds a valid lease at `now`, by the view's lease events (the same answer
    /// as `LeadershipState.isLeader(at:)`: the view ends the lease on a step-down or a halt).
    func isLeader(at now: MonotonicInstant) -> Bool {
        state.withLock { state in state.leaseUntil.map { now.nanoseconds < $0 } ?? false }
    }

    private static func leaseUntil(of state: LeadershipState, at now: MonotonicInstant) -> UInt64? {
        guard state.isLeader(at: now) else { return nil }
        return state.lease.deadline?.nanoseconds ?? .max
    }

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

    /// Wakes the pump, once however many wake-ups come before it runs.
    private func wake(keepAlive: Bool) {
        let pump = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if keepAlive { state.keepAliveDue = true }
            state.pumpWakeups += 1
            defer { state.pump = nil }
            return state.pump
        }
        pump?.resume()
    }

    // MARK: The pump (its own task)

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
            if deliver() { return }
        }
    }

    /// One round: each subscriber's unsent events (or a keep-alive), grouped by event loop, written
    /// by one task on each loop; the blocking queries are woken. Returns true once the hub closed.
    private func deliver() -> Bool {
        let (batches, waiters, closed) = state.withLock { state -> ([ObjectIdentifier: LoopBatch], [CheckedContinuation<Bool, Never>], Bool) in
            state.pumpWakeups = 0
            let keepAlive = state.keepAliveDue
            state.keepAliveDue = false
            var batches: [ObjectIdentifier: LoopBatch] = [:]
            // Most subscribers are at the same place in the log: their events are computed once.
            var shared: [Cursor: [ServerSentEvent]] = [:]
            for (key, subscriber) in state.subscribers {
                var delivery: LoopBatch.Delivery
                if subscriber.cursor.next < state.first {
                    delivery = .overflowed
                } else {
                    let events = shared[subscriber.cursor] ?? Self.unsent(after: subscriber.cursor, in: state)
                    shared[subscriber.cursor] = events
                    state.subscribers[key]?.cursor.next = state.next
                    if !events.isEmpty {
                        delivery = .events(events)
                    } else if keepAlive {
                        delivery = .keepAlive
                    } else {
                        continue
                    }
                }
                let loop = ObjectIdentifier(subscriber.sink.eventLoop)
                batches[loop, default: LoopBatch(loop: subscriber.sink.eventLoop)].items.append((subscriber.sink, delivery))
            }
            defer { state.waiters.removeAll(keepingCapacity: true) }
            return (batches, Array(state.waiters.values), state.closed)
        }
        for batch in batches.values {
            batch.loop.execute { batch.write(isLeader: self.isLeader(at: SystemMonotonicClock.now)) }
        }
        for waiter in waiters { waiter.resume(returning: true) }
        return closed
    }

    /// The events after `cursor` a stream has not been sent: none that its state already showed,
    /// and no lease extension that a later one of the same term supersedes.
    private static func unsent(after cursor: Cursor, in state: State) -> [ServerSentEvent] {
        guard cursor.next < state.next else { return [] }
        let pending = state.log[Int(cursor.next - state.first)...]
        var events: [ServerSentEvent] = []
        events.reserveCapacity(pending.count)
        for (offset, event) in zip(pending.indices, pending) {
            if event.changesIndex && event.index <= cursor.stateIndex { continue }
            let following = offset + 1
            if event.isExtension, following < pending.endIndex, pending[following].isExtension,
               pending[following].term == event.term {
                continue
            }
            events.append(event)
        }
        return events
    }

    /// What one event loop writes in one round.
    private struct LoopBatch {
        enum Delivery {
            case events([ServerSentEvent])
            case keepAlive
            case overflowed
        }

        let loop: any EventLoop
        var items: [(sink: HTTPStreamSink, delivery: Delivery)] = []

        /// On `loop`: each item written and flushed; a connection that cannot keep up is closed.
        func write(isLeader: Bool) {
            for (sink, delivery) in items where sink.isActive {
                switch delivery {
                case .events(let events):
                    // The client stopped reading: its write buffer is full. Close rather than drop.
                    guard sink.isWritable else {
                        sink.close()
                        continue
                    }
                    sink.writeOnLoop(events.map { $0.bytes(isLeader: isLeader) })
                case .keepAlive:
                    if sink.isWritable { sink.writeOnLoop([ServerSentEvent.keepAlive]) }
                case .overflowed:
                    sink.close()
                }
            }
        }
    }

    // MARK: Streams and queries

    /// The current state and the cursor just after it: a stream begins with this state, and the
    /// events the state already shows are skipped, whichever order the view and the hub saw them in.
    func subscribe() -> (state: LeadershipState, cursor: Cursor) {
        let next = state.withLock { $0.next }
        let current = view.current
        return (current, Cursor(next: next, stateIndex: current.index))
    }

    /// Feeds `sink` every event after `cursor` until its connection closes or the hub does.
    func stream(to sink: HTTPStreamSink, from cursor: Cursor) async {
        let key = state.withLock { state -> Int? in
            guard !state.closed else { return nil }
            defer { state.nextKey += 1 }
            state.subscribers[state.nextKey] = Subscriber(sink: sink, cursor: cursor)
            return state.nextKey
        }
        guard let key else {
            sink.close()
            return
        }
        wake(keepAlive: false)  // Events since the state was read go out now.
        try? await sink.closed.get()
        _ = state.withLock { $0.subscribers.removeValue(forKey: key) }
    }

    /// Waits until the view's index exceeds `index`, or `timeout` passes; returns whether it did.
    func waitForIndex(above index: UInt64, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (current, closed) = state.withLock { ($0.index, $0.closed) }
            if current > index || view.current.index > index { return true }
            if closed || ContinuousClock.now >= deadline { return false }
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

    /// One round of the pump; false once the hub closed or the task was cancelled. Returns at once
    /// if `changed` holds when the waiter is registered (something happened since the caller
    /// looked), so no wake-up is ever missed.
    private func waitForWake(unless changed: @escaping @Sendable (State) -> Bool) async -> Bool {
        let key = state.withLock { state -> Int in
            defer { state.nextKey += 1 }
            return state.nextKey
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
