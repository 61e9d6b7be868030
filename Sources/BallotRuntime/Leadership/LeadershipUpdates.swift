import BallotCore
import Synchronization

/// One element of ``LeadershipView/updates()``: first the view as it was when the subscription
/// began, then every change, in the view's order.
public enum LeadershipUpdate: Hashable, Sendable {
    /// The view when the subscription began: always the first element.
    case current(LeadershipState)
    /// A change: a leader found or lost, a lease begun, extended or ended.
    case changed(LeadershipEvent)

    /// The view's change index after this element.
    public var index: UInt64 {
        switch self {
        case .current(let state): state.index
        case .changed(let event): event.index
        }
    }
}

/// The changes of one ``LeadershipView`` as an `AsyncSequence` that starts with the current state
/// and never drops a loss.
///
/// **Buffer: loss-preserving, not unbounded.** A subscriber that reads slowly gets every `elected`,
/// every `lost` and every lease begin and end, in order; only *extensions* of a lease coalesce —
/// an extension waiting in the buffer is replaced by the next extension of the same term, since the
/// newer deadline supersedes it. So a subscriber that stops reading for an hour holds a handful of
/// elements, not thirty-six thousand lease extensions, and still learns of every loss.
///
/// The listener is registered when the sequence is created (the current state is read under the
/// same lock), and removed when its iterator is dropped or its task is cancelled. Iterate it once.
public struct LeadershipUpdates: AsyncSequence, Sendable {
    public typealias Element = LeadershipUpdate

    let subscription: Subscription

    init(view: LeadershipView) {
        subscription = Subscription(view: view)
    }

    public func makeAsyncIterator() -> Iterator { Iterator(subscription: subscription) }

    public struct Iterator: AsyncIteratorProtocol {
        let subscription: Subscription

        /// The next update; `nil` once the task is cancelled.
        public mutating func next() async -> LeadershipUpdate? { await subscription.next() }

        public mutating func next(isolation actor: isolated (any Actor)?) async -> LeadershipUpdate? {
            await subscription.next()
        }
    }

    /// The buffer between the view's listener (on the producer's thread, never blocking) and one
    /// consuming task.
    final class Subscription: Sendable {
        private struct State {
            var buffer: [LeadershipUpdate] = []
            var head = 0
            var waiter: CheckedContinuation<LeadershipUpdate?, Never>?
            var finished = false
        }

        private let view: LeadershipView
        private let state = Mutex(State())
        private let token: Mutex<LeadershipView.ListenerToken?> = Mutex(nil)

        init(view: LeadershipView) {
            self.view = view
            let registration = view.addListener { [weak self] event in self?.push(.changed(event)) }
            token.withLock { $0 = registration.token }
            // The state read with the registration comes first; events after it were buffered behind it.
            state.withLock { $0.buffer.insert(.current(registration.state), at: 0) }
        }

        deinit {
            if let token = token.withLock({ $0 }) { view.removeListener(token) }
        }

        /// How many updates wait to be read (for tests of the buffer's bound).
        var pending: Int { state.withLock { $0.buffer.count - $0.head } }

        func push(_ update: LeadershipUpdate) {
            let waiter = state.withLock { state -> CheckedContinuation<LeadershipUpdate?, Never>? in
                guard !state.finished else { return nil }
                if let waiter = state.waiter {
                    state.waiter = nil
                    return waiter
                }
                if case .changed(.lease(let change, _)) = update, !change.ends,
                   state.buffer.count > state.head, case .changed(.lease(let waiting, _)) = state.buffer[state.buffer.count - 1],
                   !waiting.ends, waiting.term == change.term
                {
                    // Only an extension replaces an extension: begins (a new index) and ends stay.
                    if let last = state.buffer.last, last.index == update.index {
                        state.buffer[state.buffer.count - 1] = update
                        return nil
                    }
                }
                state.buffer.append(update)
                return nil
            }
            waiter?.resume(returning: update)
        }

        func next() async -> LeadershipUpdate? {
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<LeadershipUpdate?, Never>) in
                    let ready = state.withLock { state -> LeadershipUpdate?? in
                        if state.head < state.buffer.count {
                            let update = state.buffer[state.head]
                            state.head += 1
                            if state.head == state.buffer.count {
                                state.buffer.removeAll(keepingCapacity: true)
                                state.head = 0
                            }
                            return .some(update)
                        }
                        if state.finished { return .some(nil) }
                        state.waiter = continuation
                        return .none
                    }
                    if let ready { continuation.resume(returning: ready) }
                }
            } onCancel: {
                finish()
            }
        }

        /// Ends the subscription: a waiting reader gets `nil`, the listener goes.
        func finish() {
            let waiter = state.withLock { state -> CheckedContinuation<LeadershipUpdate?, Never>? in
                state.finished = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
            if let token = token.withLock({ token -> LeadershipView.ListenerToken? in
                defer { token = nil }
                return token
            }) {
                view.removeListener(token)
            }
        }
    }
}

extension LeadershipView {
    /// Every change of this view from now on, after the current state; see ``LeadershipUpdates``.
    public func updates() -> LeadershipUpdates { LeadershipUpdates(view: self) }
}
