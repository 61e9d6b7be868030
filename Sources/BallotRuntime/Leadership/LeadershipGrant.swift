import BallotCore
import Synchronization

/// Proof handed to leader-only work (`whileLeader`, `awaitLeadership`): this node led term
/// ``term`` with a valid lease when the grant was made. Pass ``fencingToken`` with every write, so
/// that a resource which remembers the highest token it saw refuses a deposed leader
/// (docs/fencing.md); ask ``isValid`` right before an action that must not happen twice.
public struct LeadershipGrant: Sendable, CustomStringConvertible {
    public let node: NodeID
    public let term: Term
    /// The lease deadline when the grant was made (`nil`: a lease without end).
    public let grantedUntil: MonotonicInstant?
    let view: LeadershipView
    let clock: any MonotonicClock & Sendable

    /// The term: the token to fence writes with.
    public var fencingToken: Term { term }

    /// Whether this node still leads ``term`` with a lease valid at this instant.
    public var isValid: Bool {
        let state = view.current
        return state.term == term && state.isLeader(at: clock.now)
    }

    /// The lease deadline now (it moves later with every extension); `nil` once the lease of this
    /// term is gone or if it has no end.
    public var leaseDeadline: MonotonicInstant? {
        let state = view.current
        guard state.term == term, state.isLeader(at: clock.now) else { return nil }
        return state.lease.deadline
    }

    public var description: String { "node \(node) leads term \(term)" }
}

/// Why leader-only work was stopped: its lease ended, or came within the cancellation margin of
/// its deadline without being extended (the node paused, lost its quorum, or is handing over).
public struct LeadershipLost: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Reason: String, Hashable, Sendable {
        /// The lease ended (step-down, transfer, resignation, a newer term, halt).
        case leaseEnded = "lease_ended"
        /// The deadline came within the margin with no extension.
        case deadlineApproaching = "deadline_approaching"
    }

    public let term: Term
    public let reason: Reason

    public var description: String {
        switch reason {
        case .leaseEnded: "leadership of term \(term) ended"
        case .deadlineApproaching: "the lease of term \(term) was about to run out without an extension"
        }
    }
}

/// Calls `onExpiry` once, `margin` before the lease deadline of `grant`'s term — re-armed on every
/// extension — or at once when that lease ends or the view moves to another term.
///
/// The view's listener updates the deadline on the producer's thread (it never blocks); one
/// sleeping task wakes at `deadline − margin`, finds the deadline moved if an extension came, and
/// sleeps again. A deadline that moves *earlier* (never seen in practice) restarts the sleeper.
final class LeaseWatch: Sendable {
    private struct State {
        var deadline: MonotonicInstant?
        var fired = false
        var sleeper: Task<Void, Never>?
        var token: LeadershipView.ListenerToken?
    }

    private let view: LeadershipView
    private let term: Term
    private let margin: Duration
    private let clock: any MonotonicClock & Sendable
    private let onExpiry: @Sendable (LeadershipLost) -> Void
    private let state = Mutex(State())

    init(view: LeadershipView, term: Term, margin: Duration, clock: any MonotonicClock & Sendable,
         onExpiry: @escaping @Sendable (LeadershipLost) -> Void) {
        self.view = view
        self.term = term
        self.margin = margin
        self.clock = clock
        self.onExpiry = onExpiry
    }

    /// Starts watching. Fires at once if the lease is already gone.
    func start() {
        let registration = view.addListener { [weak self] event in self?.handle(event) }
        state.withLock { $0.token = registration.token }
        let current = registration.state
        guard current.term == term, current.isLeader(at: clock.now) else {
            fire(.leaseEnded)
            return
        }
        move(to: current.lease.deadline)
    }

    /// Stops watching without firing.
    func stop() {
        let (sleeper, token) = state.withLock { state in
            state.fired = true
            defer { state.sleeper = nil; state.token = nil }
            return (state.sleeper, state.token)
        }
        sleeper?.cancel()
        if let token { view.removeListener(token) }
    }

    private func handle(_ event: LeadershipEvent) {
        switch event {
        case .lease(let change, _):
            if change.term != term || change.ends { fire(.leaseEnded) } else { move(to: change.until) }
        case .lost(_, let lostTerm, _, _):
            if lostTerm == term { fire(.leaseEnded) }
        case .elected(_, let electedTerm, _, _, _, _, _):
            if electedTerm != term { fire(.leaseEnded) }
        }
    }

    /// Records a new deadline; starts a sleeper unless one already sleeps towards an earlier
    /// instant (it will find the later deadline when it wakes).
    private func move(to deadline: MonotonicInstant?) {
        let (restart, old) = state.withLock { state -> (Bool, Task<Void, Never>?) in
            guard !state.fired else { return (false, nil) }
            let previous = state.deadline
            state.deadline = deadline
            guard deadline != nil else { return (false, nil) }  // Unbounded: nothing to wake for.
            if state.sleeper == nil { return (true, nil) }
            if let previous, let deadline, deadline < previous { return (true, state.sleeper) }
            return (false, nil)
        }
        old?.cancel()
        if restart {
            let sleeper = Task { [weak self] () async -> Void in await self?.sleep() }
            let stale = state.withLock { state -> Bool in
                if state.fired { return true }
                state.sleeper = sleeper
                return false
            }
            if stale { sleeper.cancel() }
        }
    }

    private func sleep() async {
        while !Task.isCancelled {
            guard let deadline = state.withLock({ $0.fired ? nil : $0.deadline }) else { return }
            let wake = deadline - margin
            let now = clock.now
            if now >= wake {
                fire(.deadlineApproaching)
                return
            }
            try? await Task.sleep(for: wake - now)
        }
    }

    private func fire(_ reason: LeadershipLost.Reason) {
        let (first, sleeper, token) = state.withLock { state in
            defer {
                state.fired = true
                state.sleeper = nil
                state.token = nil
            }
            return (!state.fired, state.sleeper, state.token)
        }
        guard first else { return }
        if let token { view.removeListener(token) }
        sleeper?.cancel()
        onExpiry(LeadershipLost(term: term, reason: reason))
    }
}

extension LeadershipView {
    /// Waits until this node leads with a valid lease and returns its grant; `nil` when `timeout`
    /// (if any) runs out first or the task is cancelled.
    public func awaitLeadership(timeout: Duration?, clock: any MonotonicClock & Sendable) async -> LeadershipGrant? {
        let updates = self.updates()
        let view = self
        return await withTaskGroup(of: LeadershipGrant?.self) { group in
            group.addTask {
                for await _ in updates {
                    let state = view.current
                    if state.isLeader(at: clock.now) {
                        return LeadershipGrant(node: state.node, term: state.term, grantedUntil: state.lease.deadline,
                                               view: view, clock: clock)
                    }
                }
                return nil
            }
            if let timeout {
                group.addTask {
                    try? await Task.sleep(for: timeout)
                    return nil
                }
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    /// Runs `body` while this node leads: waits for leadership, runs the body in its own task, and
    /// cancels that task `margin` before the lease deadline (re-armed on every extension) or at
    /// once when the lease ends. When the body ends while the lease still holds, `resign` is
    /// called and the body's result returned; when the lease went first, ``LeadershipLost`` is
    /// thrown once the body has stopped. The body must honour cancellation within `margin`.
    public func whileLeader<T: Sendable>(
        margin: Duration, clock: any MonotonicClock & Sendable, resign: @escaping @Sendable () async -> Void,
        _ body: @escaping @Sendable (LeadershipGrant) async throws -> T
    ) async throws -> T {
        // The body acts under the lease, so it is a holder: the node releases an ended lease only
        // once the body stopped. Registered before the body starts, and only kept if the lease
        // still held after registering (so its end is one the holder must confirm).
        var granted: (LeadershipGrant, HolderToken)?
        while granted == nil {
            guard let grant = await awaitLeadership(timeout: nil, clock: clock) else { throw CancellationError() }
            let holder = registerHolder()
            if grant.isValid {
                granted = (grant, holder)
            } else {
                unregisterHolder(holder, stopped: true)
            }
        }
        guard let (grant, holder) = granted else { throw CancellationError() }
        let lost = Mutex<LeadershipLost?>(nil)
        let work = Task { try await body(grant) }
        let watch = LeaseWatch(view: self, term: grant.term, margin: margin, clock: clock) { reason in
            lost.withLock { $0 = $0 ?? reason }
            work.cancel()
        }
        watch.start()
        let result = await withTaskCancellationHandler { await work.result } onCancel: { work.cancel() }
        unregisterHolder(holder, stopped: true)
        watch.stop()
        if let reason = lost.withLock({ $0 }) { throw reason }
        await resign()
        return try result.get()
    }
}
