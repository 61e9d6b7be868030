import BallotCore
import Synchronization

/// The seam between whatever produces leadership (the Raft, Bully and Ring cores through a
/// ``NodeDriver``; election backends on etcd or ZooKeeper) and everything that consumes it.
///
/// Exactly one producer updates a view; any number of consumers read ``current`` from any thread
/// without waiting for the producer, or subscribe to its ``LeadershipEvent``s, which every listener
/// receives in the same order. No consumer keeps its own copy of leadership state.
public final class LeadershipView: Sendable {
    /// How many changes ``LeadershipState/history`` keeps.
    public static let historyLimit = 20

    public typealias Listener = @Sendable (LeadershipEvent) -> Void

    /// A registration, for ``removeListener(_:)``.
    public struct ListenerToken: Hashable, Sendable {
        let key: Int
    }

    private struct Storage: Sendable {
        var state: LeadershipState
        /// The lease as last announced to listeners; `nil` while none is held.
        var announcedLease: LeaseChange?
        var listeners: [Int: Listener] = [:]
        var nextListener = 0
        var holders = LeaseHolders()
        var holderChange: (@Sendable () -> Void)?
    }

    public let node: NodeID
    private let storage: Mutex<Storage>

    public init(node: NodeID) {
        self.node = node
        storage = Mutex(Storage(state: LeadershipState(node: node)))
    }

    private init(node: NodeID, storage: Storage) {
        self.node = node
        self.storage = Mutex(storage)
    }

    /// An independent view in the same state, without listeners: the simulator forks histories.
    package func fork() -> LeadershipView {
        let copy = storage.withLock { storage in
            var copy = storage
            copy.listeners = [:]
            copy.holderChange = nil
            return copy
        }
        return LeadershipView(node: node, storage: copy)
    }

    /// The view now. Judge time-dependent answers with its methods at the instant of asking.
    public var current: LeadershipState { storage.withLock { $0.state } }

    /// Registers `listener`, called synchronously (on the producer's thread) after every change,
    /// in order. It must return quickly and never block. Returns the current state, read under the
    /// same lock, so that a subscriber that starts from it misses no event and sees none twice.
    @discardableResult
    public func addListener(_ listener: @escaping Listener) -> (token: ListenerToken, state: LeadershipState) {
        storage.withLock { storage in
            let key = storage.nextListener
            storage.nextListener += 1
            storage.listeners[key] = listener
            return (ListenerToken(key: key), storage.state)
        }
    }

    public func removeListener(_ token: ListenerToken) {
        _ = storage.withLock { $0.listeners.removeValue(forKey: token.key) }
    }

    // MARK: Producing

    /// Marks the node's start: the first leaderless interval begins here, and the restored term
    /// shows from the first read.
    public func start(at instant: MonotonicInstant, role: Role, term: Term) {
        storage.withLock { storage in
            storage.state.startedAt = instant
            storage.state.role = role
            storage.state.term = term
            if storage.state.leader == nil, storage.state.leaderlessSince == nil {
                storage.state.leaderlessSince = instant
            }
        }
    }

    /// Takes in one batch of core actions and the core's beliefs right after them.
    ///
    /// - Parameters:
    ///   - lease: the lease as the producer projects it onto the clock.
    ///   - lastContact: the latest instant the node heard from its leader, if it knows one.
    public func absorb(
        _ actions: [Action], role: Role, term: Term, lease: Lease, lastContact: MonotonicInstant?,
        at now: MonotonicInstant
    ) {
        publish { storage, events in
            if storage.state.startedAt == nil { storage.state.startedAt = now }
            for action in actions {
                switch action {
                case .leaderChanged(let info?):
                    Self.find(info, at: now, in: &storage.state, events: &events)
                case .leaderChanged(nil):
                    Self.lose(at: now, in: &storage.state, events: &events)
                case .steppedDown:
                    if storage.state.leaderlessSince == nil { storage.state.leaderlessSince = now }
                case .persist, .send, .roleChanged, .campaignStarted, .campaignFinished, .transferStarted,
                    .transferFinished:
                    break
                }
            }
            storage.state.role = role
            storage.state.term = term
            storage.state.lease = lease
            if let contact = lastContact {
                storage.state.lastLeaderContact = max(storage.state.lastLeaderContact ?? contact, contact)
            }
            Self.announceLease(&storage, at: now, events: &events)
        }
    }

    /// Announces the end of a lease whose deadline passed without a new batch (the producer wakes
    /// at the deadline for this), so listeners learn of it then rather than at the next step-down.
    public func expireLease(at now: MonotonicInstant) {
        publish { storage, events in
            guard let announced = storage.announcedLease, let until = announced.until, until <= now else { return }
            Self.announceLease(&storage, at: now, events: &events)
        }
    }

    /// The node stopped taking part: it no longer claims leadership, from now on.
    public func halt(_ halt: Halt, at now: MonotonicInstant) {
        publish { storage, events in
            storage.state.halt = halt
            Self.announceLease(&storage, at: now, events: &events)
        }
    }

    // MARK: Lease holders (released hand-overs)

    /// A registration of something that acts under this node's lease (see ``registerHolder()``).
    public struct HolderToken: Hashable, Sendable {
        let key: Int
    }

    /// Registers a holder: something that does leader-only work under this node's lease and
    /// confirms (``holderStopped(_:through:)``) when it stopped after the lease ended. While any
    /// holder has not confirmed, the node does not release an ended lease early, so its successor
    /// waits out the published deadline.
    public func registerHolder() -> HolderToken {
        storage.withLock { HolderToken(key: $0.holders.register(at: $0.state.index)) }
    }

    /// The holder stopped acting under every lease announced up to view index `index` (the index of
    /// the lease's end event it saw). Returns false for an unknown token.
    @discardableResult
    public func holderStopped(_ token: HolderToken, through index: UInt64) -> Bool {
        let (known, handler) = storage.withLock { storage in
            (storage.holders.stopped(token.key, through: min(index, storage.state.index)), storage.holderChange)
        }
        if known { handler?() }
        return known
    }

    /// Forgets a holder. `stopped`: it acts no more (a finished `whileLeader` body); otherwise it
    /// went away unconfirmed (a sidecar's connection dropped) and may act until its last deadline.
    public func unregisterHolder(_ token: HolderToken, stopped: Bool) {
        let handler = storage.withLock { storage in
            storage.holders.unregister(token.key, stopped: stopped, leaseHeld: storage.announcedLease != nil)
            return storage.holderChange
        }
        handler?()
    }

    /// How many holders are registered.
    public var holderCount: Int { storage.withLock { $0.holders.count } }

    /// Sets what to call when a holder confirmed or left: the producer then checks, on its own
    /// executor, whether the ended lease can be released (``NodeDriver/releaseLeaseIfHoldersStopped()``).
    public func onHolderChange(_ handler: @escaping @Sendable () -> Void) {
        storage.withLock { $0.holderChange = handler }
    }

    /// The term of the lease that ended last, when no lease is held now and every holder stopped
    /// under it; `nil` otherwise or once released.
    package func releasableLease(at now: MonotonicInstant) -> Term? {
        storage.withLock { storage in
            storage.announcedLease == nil ? storage.holders.releasable(at: now) : nil
        }
    }

    /// The producer released the lease that ended last.
    package func noteLeaseReleased() {
        storage.withLock { $0.holders.released() }
    }

    /// Applies `change` under the lock, then tells every listener, outside it, in order.
    private func publish(_ change: (inout Storage, inout [LeadershipEvent]) -> Void) {
        let (events, listeners) = storage.withLock { storage -> ([LeadershipEvent], [Listener]) in
            var events: [LeadershipEvent] = []
            change(&storage, &events)
            if events.isEmpty || storage.listeners.isEmpty { return (events, []) }
            return (events, storage.listeners.keys.sorted().compactMap { storage.listeners[$0] })
        }
        for event in events {
            for listener in listeners { listener(event) }
        }
    }

    private static func find(_ info: LeaderInfo, at now: MonotonicInstant, in state: inout LeadershipState,
                             events: inout [LeadershipEvent]) {
        let leaderless = state.leaderlessSince.map { max(now - $0, .zero) }
        state.leaderlessSince = nil
        let isNew = state.leadership != info
        if isNew {
            state.leadership = info
            state.leadershipSince = now
        }
        state.leader = info
        state.index += 1
        record(LeadershipRecord(index: state.index, leader: info.id, term: info.term, at: now, leaderless: leaderless),
               in: &state)
        events.append(.elected(leader: info.id, term: info.term, isSelf: info.id == state.node, leaderless: leaderless,
                               isNewLeadership: isNew, index: state.index, at: now))
    }

    private static func lose(at now: MonotonicInstant, in state: inout LeadershipState,
                             events: inout [LeadershipEvent]) {
        if state.leaderlessSince == nil { state.leaderlessSince = now }
        guard let previous = state.leader else { return }
        state.leader = nil
        state.index += 1
        record(LeadershipRecord(index: state.index, leader: nil, term: previous.term, at: now, leaderless: nil),
               in: &state)
        events.append(.lost(previous: previous.id, term: previous.term, index: state.index, at: now))
    }

    private static func record(_ change: LeadershipRecord, in state: inout LeadershipState) {
        state.history.append(change)
        if state.history.count > historyLimit { state.history.removeFirst(state.history.count - historyLimit) }
    }

    /// Announces a moved lease deadline: when a lease begins, each time it is extended, and when it
    /// ends (``LeaseChange/ends``). Beginning and ending change the index; extending does not.
    private static func announceLease(_ storage: inout Storage, at now: MonotonicInstant,
                                      events: inout [LeadershipEvent]) {
        let state = storage.state
        var current: LeaseChange?
        if state.role == .leader, state.halt == nil {
            switch state.lease {
            case .unbounded: current = LeaseChange(term: state.term, at: now, until: nil)
            case .until(let deadline) where deadline > now: current = LeaseChange(term: state.term, at: now, until: deadline)
            case .until, .none: current = nil
            }
        }
        switch (storage.announcedLease, current) {
        case (nil, nil):
            return
        case (let announced?, nil):
            storage.announcedLease = nil
            storage.state.index += 1
            storage.holders.leaseEnded(term: announced.term, index: storage.state.index)
            events.append(.lease(LeaseChange(term: announced.term, at: now, until: now), index: storage.state.index))
        case (let announced, let current?):
            if let announced, announced.term == current.term, announced.until == current.until { return }
            if announced == nil { storage.state.index += 1 }
            storage.announcedLease = current
            storage.holders.leaseAnnounced(until: current.until)
            events.append(.lease(current, index: storage.state.index))
        }
    }
}
