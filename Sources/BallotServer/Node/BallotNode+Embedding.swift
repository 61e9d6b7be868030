import BallotCore
import BallotRuntime

/// Issue 15: the embedded Swift API — an application that links BallotServer and runs a node in
/// its own process watches leadership and runs leader-only work without any HTTP in between.
///
/// Everything here reads the node's ``LeadershipView`` (never the actor), so any number of
/// observers can run at once and none of them slows the node.
extension BallotNode {
    /// Every change of this node's leadership, after the current state; a loss is never dropped
    /// (lease extensions waiting unread coalesce; see ``LeadershipUpdates``).
    public nonisolated func leadershipStates() -> LeadershipUpdates { view.updates() }

    /// Waits until this node leads with a valid lease; `nil` if `timeout` passes first.
    public nonisolated func awaitLeadership(timeout: Duration) async -> LeadershipGrant? {
        await view.awaitLeadership(timeout: timeout, clock: SystemMonotonicClock())
    }

    /// How long before the lease deadline ``whileLeader(cancellingAhead:_:)`` cancels its body by
    /// default: a tenth of the election timeout (100 ms with the default 1 s). Extensions arrive
    /// every heartbeat interval, so a healthy leader never comes this close to its deadline.
    public nonisolated var defaultCancellationMargin: Duration { electionTimeout / 10 }

    /// Waits until this node leads, then runs `body` with a ``LeadershipGrant`` in a task of its
    /// own. That task is cancelled `margin` before the lease deadline — the cancellation is re-armed
    /// on every extension — or at once when the lease ends; `whileLeader` then throws
    /// ``LeadershipLost`` once the body has returned. When the body returns (or throws) while the
    /// lease still holds, the node resigns (``resign(holdOff:)``) and its result is returned.
    ///
    /// The body must stop promptly when cancelled (check `Task.isCancelled` or use cancellable
    /// awaits) and fence every write with `grant.fencingToken`.
    public nonisolated func whileLeader<T: Sendable>(
        cancellingAhead margin: Duration? = nil, _ body: @escaping @Sendable (LeadershipGrant) async throws -> T
    ) async throws -> T {
        try await view.whileLeader(
            margin: margin ?? defaultCancellationMargin, clock: SystemMonotonicClock(),
            resign: { _ = try? await self.resign() }, body)
    }
}
