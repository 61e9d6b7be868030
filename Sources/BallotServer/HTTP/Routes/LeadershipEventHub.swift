import BallotCore
import BallotRuntime
import NIOCore
import Synchronization

/// One node's leadership changes, encoded once, for every `/events` subscriber and every blocking
/// `GET /leader?index=` query at once.
///
/// The view's listener (on the node's own event loop) only encodes the event and appends it to a
/// bounded shared log — constant work however many clients watch — and wakes one pump task. The
/// pump, off the node's loop, owns the streams and delivers in rounds, **one round at a time**: it
/// hands each HTTP event loop the events each of its subscribers has not been sent, in slices of
/// ``sliceSize`` streams, each slice submitted once the loop has written the previous one — so a
/// loop returns to its sockets (accepts, `/leader`, `/primary`) between slices — one loop after the
/// other, so that a fan-out keeps at most one core busy and the node's election loop finds another;
/// and it computes the next round only when every loop has written this one. Events that arrive
/// meanwhile wait in the log; a subscriber then gets them all, but of several lease extensions of
/// the same term only the newest (it supersedes the others). So the work is bounded by what the loops can write, not by
/// how often the lease moves. Every 15 s the pump also writes a keep-alive comment.
///
/// **Never merging a loss away**: a subscriber is sent every `elected`, `lost` and lease begin or
/// end after the state it began with (extensions thinned, see ``publishes(_:changesIndex:after:)``,
/// and superseded ones skipped). Its buffer is its connection's: a client that stops reading fills
/// NIO's write buffer (its high-water mark) and is disconnected at the next event, as is one that
/// falls more than ``capacity`` events behind; it reconnects and starts from the state. Nothing is
/// ever skipped silently.
public final class LeadershipEventHub: Sendable {
    /// Events kept for subscribers that lag.
    public static let capacity = 4096
    /// How often an idle stream gets a comment line (docs/applications.md: every 15 s).
    public static let keepAliveInterval = Duration.seconds(15)
    /// Streams one event loop writes before it gets back to its other connections.
    static let sliceSize = 256

    /// Where a stream is in the log: the next event to send, and the index of the state it began
    /// with (events that moved the index up to it are already in that state).
    struct Cursor: Sendable, Hashable {
        var next: UInt64
        var stateIndex: UInt64
    }

    /// A stream as the pump keeps it.
    private struct Stream {
        let sink: HTTPStreamSink
        var cursor: Cursor
    }

    private struct State {
        var log: [EncodedLeadershipEvent] = []
        /// The sequence number of `log[0]`; `next` is one past the newest event.
        var first: UInt64 = 0
        var next: UInt64 = 0
        /// The view's index as of the newest event (or the hub's start).
        var index: UInt64 = 0
        /// Streams that began since the pump last looked, and keys of streams that closed.
        var joined: [(key: Int, stream: Stream)] = []
        var left: [Int] = []
        /// Open streams (the pump's, and those waiting in `joined`).
        var live = 0
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

    /// Stops the keep-alive timer, answers every waiting query and has the pump close every
    /// stream and stop.
    public func close() {
        let (waiters, pump, token) = state.withLock { state in
            state.closed = true
            state.pumpWakeups += 1
            state.live = 0
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
        for task in tasks.withLock({ $0 }).dropFirst() { task.cancel() }
    }

    /// Open streams and blocking queries now (for tests and the benchmark).
    public var subscriberCount: Int { state.withLock { $0.live } }
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
            let encoded = EncodedLeadershipEvent(event: event, node: view.node, changesIndex: event.index != state.index,
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
        var streams: [Int: Stream] = [:]
        var delivered: UInt64 = 0
        while true {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if state.pumpWakeups > 0 || state.closed { return true }
                    state.pump = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
            guard let batches = nextRound(&streams, delivered: &delivered) else { return }
            // One round in flight, one loop at a time: each loop writes its share, slice by slice,
            // then the next loop — so the fan-out keeps at most one core busy and the node's
            // election loop (and its peers' on the same machine) always finds another.
            for batch in batches { await batch.write(hub: self) }
        }
    }

    /// Takes in what happened since the last round (events, streams that began or closed, a
    /// keep-alive due), wakes the blocking queries, and returns what each event loop must write —
    /// or nil once the hub closed (then every stream has been closed).
    private func nextRound(_ streams: inout [Int: Stream], delivered: inout UInt64) -> [LoopBatch]? {
        // The log from the oldest cursor on, copied out so that the loop below runs unlocked.
        let (round, waiters) = state.withLock { state -> (Round, [CheckedContinuation<Bool, Never>]) in
            state.pumpWakeups = 0
            defer {
                state.keepAliveDue = false
                state.joined.removeAll()
                state.left.removeAll()
                state.waiters.removeAll(keepingCapacity: true)
            }
            let oldest = state.joined.reduce(min(delivered, state.next)) { min($0, $1.stream.cursor.next) }
            let from = max(oldest, state.first)
            return (Round(log: Array(state.log[Int(from - state.first)...]), first: from, next: state.next,
                          index: state.index, keepAlive: state.keepAliveDue, joined: state.joined, left: state.left,
                          closed: state.closed),
                    Array(state.waiters.values))
        }
        for waiter in waiters { waiter.resume(returning: true) }
        // In this order: a stream may have begun and closed since the last round.
        for (key, stream) in round.joined { streams[key] = stream }
        for key in round.left { streams[key] = nil }
        if round.closed {
            for stream in streams.values { stream.sink.close() }
            streams.removeAll()
            return nil
        }
        // Every stream but those that just began has been sent everything up to `delivered`: with
        // no new event and no keep-alive due, only the new ones can have anything to send (so a
        // thousand subscribers joining cost a thousand small rounds, not a thousand full ones).
        let everyone = round.next > delivered || round.keepAlive
        delivered = round.next
        let keys = everyone ? Array(streams.keys) : round.joined.map(\.key).filter { streams[$0] != nil }
        var batches: [ObjectIdentifier: LoopBatch] = [:]
        // Most subscribers are at the same place in the log: their events are computed once.
        var shared: [Cursor: [EncodedLeadershipEvent]] = [:]
        for key in keys {
            guard let stream = streams[key] else { continue }
            let delivery: LoopBatch.Delivery
            if stream.cursor.next < round.first {
                delivery = .overflowed
            } else {
                let events: [EncodedLeadershipEvent]
                if let known = shared[stream.cursor] {
                    events = known
                } else {
                    events = Self.unsent(after: stream.cursor, in: round)
                    shared[stream.cursor] = events
                }
                // Once the log holds every event up to the stream's state, that state filters nothing more.
                let stateIndex = round.index >= stream.cursor.stateIndex ? 0 : stream.cursor.stateIndex
                let cursor = Cursor(next: round.next, stateIndex: stateIndex)
                if cursor != stream.cursor { streams[key]?.cursor = cursor }
                if !events.isEmpty {
                    delivery = .events(events)
                } else if round.keepAlive {
                    delivery = .keepAlive
                } else {
                    continue
                }
            }
            let loop = ObjectIdentifier(stream.sink.eventLoop)
            batches[loop, default: LoopBatch(loop: stream.sink.eventLoop)].items.append((stream.sink, delivery))
        }
        return Array(batches.values)
    }

    /// What a round works from: the log's tail from the oldest cursor, and what came in.
    private struct Round {
        var log: [EncodedLeadershipEvent]
        /// The sequence number of `log[0]`; `next` is one past the newest event.
        var first: UInt64
        var next: UInt64
        var index: UInt64
        var keepAlive: Bool
        var joined: [(key: Int, stream: Stream)]
        var left: [Int]
        var closed: Bool
    }

    /// The events after `cursor` a stream has not been sent: none that its state already showed,
    /// and no lease extension that a later one of the same term supersedes (there is such a later
    /// one only for a stream that is behind: an up-to-date one gets each extension as it comes).
    private static func unsent(after cursor: Cursor, in round: Round) -> [EncodedLeadershipEvent] {
        guard cursor.next < round.next else { return [] }
        let pending = round.log[Int(cursor.next - round.first)...]
        var events: [EncodedLeadershipEvent] = []
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
    private struct LoopBatch: Sendable {
        enum Delivery: Sendable {
            case events([EncodedLeadershipEvent])
            case keepAlive
            case overflowed
        }

        let loop: any EventLoop
        var items: [(sink: HTTPStreamSink, delivery: Delivery)] = []

        /// Slice by slice, each submitted once the loop has written the previous one: between
        /// them the loop polls its sockets. A chain of tasks queued at once would not let it, since
        /// an event loop runs every queued task before it polls again.
        func write(hub: LeadershipEventHub) async {
            var start = items.startIndex
            while start < items.endIndex {
                let slice = items[start..<min(start + LeadershipEventHub.sliceSize, items.endIndex)]
                start = slice.endIndex
                try? await loop.submit {
                    Self.write(slice, isLeader: hub.isLeader(at: SystemMonotonicClock.now))
                }.get()
            }
        }

        /// On the loop: each item written and flushed; a connection that cannot keep up is closed.
        private static func write(_ items: ArraySlice<(sink: HTTPStreamSink, delivery: Delivery)>, isLeader: Bool) {
            for (sink, delivery) in items where sink.isActive {
                switch delivery {
                case .events(let events):
                    // The client stopped reading: its write buffer is full. Close rather than drop.
                    guard sink.isWritable else {
                        sink.close()
                        continue
                    }
                    sink.writeOnLoop(events.map { $0.chunk(isLeader: isLeader) })
                case .keepAlive:
                    if sink.isWritable { sink.writeOnLoop([EncodedLeadershipEvent.keepAlive]) }
                case .overflowed:
                    sink.close()
                }
            }
        }
    }

    // MARK: Streams and queries

    /// Starts a stream on `sink`, on its event loop (``HTTPResponse/Body/adopted(_:)``): writes the
    /// current state, then leaves the sink to the pump, which feeds it every event after that state
    /// until the connection closes or the hub does. No task per stream: the hub forgets the sink
    /// when its connection closes.
    func adopt(_ sink: HTTPStreamSink) {
        let (current, cursor) = subscribe()
        let now = SystemMonotonicClock.now
        sink.writeOnLoop([EncodedLeadershipEvent(state: current, node: view.node, at: now).chunk(isLeader: current.isLeader(at: now))])
        let key = state.withLock { state -> Int? in
            guard !state.closed else { return nil }
            defer { state.nextKey += 1 }
            state.joined.append((state.nextKey, Stream(sink: sink, cursor: cursor)))
            state.live += 1
            return state.nextKey
        }
        guard let key else {
            sink.close()
            return
        }
        sink.closed.whenComplete { [weak self] _ in self?.leave(key) }
        wake(keepAlive: false)  // Events since the state was read go out now.
    }

    private func leave(_ key: Int) {
        let wasOpen = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.left.append(key)
            state.live -= 1
            return true
        }
        if wasOpen { wake(keepAlive: false) }  // The pump lets go of the sink.
    }

    /// The current state and the cursor just after it: a stream begins with this state, and the
    /// events the state already shows are skipped, whichever order the view and the hub saw them in.
    func subscribe() -> (state: LeadershipState, cursor: Cursor) {
        let next = state.withLock { $0.next }
        let current = view.current
        return (current, Cursor(next: next, stateIndex: current.index))
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
