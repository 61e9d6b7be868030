import BallotCore
import Synchronization
import Testing

@testable import BallotRuntime

/// Issue 15's embedded API at the level of the view: the update sequence, `awaitLeadership` and
/// `whileLeader`, with a clock the test moves by hand.
@Suite struct EmbeddingTests {
    let start = MonotonicInstant(nanoseconds: 5_000_000_000)

    /// A clock a test sets by hand, safe to read from the watch's task.
    final class HandClock: MonotonicClock, Sendable {
        private let instant: Mutex<MonotonicInstant>
        init(_ start: MonotonicInstant) { instant = Mutex(start) }
        var now: MonotonicInstant { instant.withLock { $0 } }
        func set(_ value: MonotonicInstant) { instant.withLock { $0 = value } }
    }

    /// A value shared with the tasks a test starts.
    final class Shared<Value: Sendable>: Sendable {
        private let value: Mutex<Value>
        init(_ initial: Value) { value = Mutex(initial) }
        func withLock<R>(_ body: (inout Value) -> R) -> R { value.withLock { body(&$0) } }
    }

    /// A view of node 1 that leads term 1 with a lease until `deadline`.
    func leadingView(until deadline: MonotonicInstant) -> LeadershipView {
        let view = LeadershipView(node: 1)
        view.start(at: start, role: .follower, term: 0)
        view.absorb([.roleChanged(.leader, term: 1), .leaderChanged(LeaderInfo(id: 1, term: 1))], role: .leader, term: 1,
                    lease: .until(deadline), lastContact: start, at: start)
        return view
    }

    func extend(_ view: LeadershipView, to deadline: MonotonicInstant, at now: MonotonicInstant) {
        view.absorb([], role: .leader, term: 1, lease: .until(deadline), lastContact: now, at: now)
    }

    // MARK: The update sequence

    @Test func updatesStartWithTheCurrentStateThenEveryChangeInOrder() async {
        let view = leadingView(until: start + .seconds(1))
        let updates = view.updates()
        view.absorb([.steppedDown(.transfer), .roleChanged(.follower, term: 2), .leaderChanged(nil),
                     .leaderChanged(LeaderInfo(id: 2, term: 2))],
                    role: .follower, term: 2, lease: .none, lastContact: start, at: start + .milliseconds(5))
        var iterator = updates.makeAsyncIterator()
        guard case .current(let state)? = await iterator.next() else {
            Issue.record("the first element is not the current state")
            return
        }
        #expect(state.term == 1 && state.isLeader(at: start))
        var kinds: [String] = []
        for _ in 0..<3 {
            switch await iterator.next() {
            case .changed(.lease(let change, _))?: kinds.append(change.ends ? "lease end" : "lease")
            case .changed(.lost)?: kinds.append("lost")
            case .changed(.elected(let leader, _, _, _, _, _, _))?: kinds.append("elected \(leader)")
            default: kinds.append("other")
            }
        }
        #expect(kinds == ["lost", "elected 2", "lease end"])
    }

    @Test func aReaderThatStopsReadingKeepsEveryLossButOneExtension() async {
        var deadline = start + .milliseconds(900)
        let view = leadingView(until: deadline)
        let updates = view.updates()
        // A hundred extensions while nobody reads, then the lease ends and the leader is lost.
        for step in 1...100 {
            let now = start + .milliseconds(10 * step)
            deadline = now + .milliseconds(900)
            extend(view, to: deadline, at: now)
        }
        let end = start + .seconds(2)
        view.absorb([.steppedDown(.lostQuorum), .roleChanged(.follower, term: 1), .leaderChanged(nil)],
                    role: .follower, term: 1, lease: .none, lastContact: nil, at: end)
        #expect(updates.subscription.pending == 4, "current, the newest extension, lost, lease end")
        var iterator = updates.makeAsyncIterator()
        var received: [LeadershipUpdate] = []
        for _ in 0..<4 { if let update = await iterator.next() { received.append(update) } }
        guard received.count == 4, case .changed(.lease(let extended, _)) = received[1] else {
            Issue.record("received \(received)")
            return
        }
        #expect(extended.until == deadline, "the newest deadline is the one kept")
        guard case .changed(.lost) = received[2], case .changed(.lease(let ended, _)) = received[3] else {
            Issue.record("received \(received)")
            return
        }
        #expect(ended.ends)
    }

    @Test func cancellingTheReaderEndsTheSequence() async {
        let view = leadingView(until: start + .seconds(1))
        let reader = Task {
            var count = 0
            for await _ in view.updates() { count += 1 }
            return count
        }
        try? await Task.sleep(for: .milliseconds(20))
        reader.cancel()
        #expect(await reader.value == 1, "the current state, then nothing more")
    }

    // MARK: awaitLeadership

    @Test func awaitLeadershipAnswersWhenTheLeaseBeginsAndNotBefore() async {
        let clock = HandClock(start)
        let view = LeadershipView(node: 1)
        view.start(at: start, role: .follower, term: 0)
        #expect(await view.awaitLeadership(timeout: .milliseconds(30), clock: clock) == nil, "a follower times out")
        let waiting = Task { await view.awaitLeadership(timeout: .seconds(60), clock: clock) }
        try? await Task.sleep(for: .milliseconds(20))
        view.absorb([.roleChanged(.leader, term: 4), .leaderChanged(LeaderInfo(id: 1, term: 4))], role: .leader, term: 4,
                    lease: .until(start + .seconds(1)), lastContact: start, at: start)
        let grant = await waiting.value
        #expect(grant?.term == 4 && grant?.fencingToken == 4 && grant?.isValid == true)
        clock.set(start + .seconds(1))
        #expect(grant?.isValid == false, "a grant is judged at the instant of asking")
    }

    // MARK: whileLeader

    /// Runs `whileLeader` on `view` with a body that waits to be cancelled and records when.
    /// `started` turns true once the body runs (the grant was made while the view still led).
    func runWhileLeader(_ view: LeadershipView, clock: HandClock, margin: Duration, resigned: Shared<Int>)
        -> (task: Task<Result<Int, any Error>, Never>, cancelledAt: Shared<MonotonicInstant?>, started: Shared<Bool>)
    {
        let cancelledAt = Shared<MonotonicInstant?>(nil)
        let started = Shared(false)
        let task = Task {
            do {
                let value = try await view.whileLeader(margin: margin, clock: clock,
                                                       resign: { resigned.withLock { $0 += 1 } }) { _ in
                    started.withLock { $0 = true }
                    while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(2)) }
                    let now = clock.now
                    cancelledAt.withLock { $0 = now }
                    return 1
                }
                return Result<Int, any Error>.success(value)
            } catch {
                return .failure(error)
            }
        }
        return (task, cancelledAt, started)
    }

    /// Waits (bounded, however slow the machine) until the body of `whileLeader` runs: a change
    /// made before that would end leadership before any grant, and whileLeader would wait on.
    func waitUntilStarted(_ started: Shared<Bool>) async throws {
        for _ in 0..<5_000 where !started.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(2)) }
        try #require(started.withLock { $0 }, "the body never started")
    }

    @Test func theBodyIsCancelledAMarginBeforeTheDeadlineReArmedOnEveryExtension() async throws {
        let clock = HandClock(start)
        let view = leadingView(until: start + .milliseconds(500))
        let resigned = Shared(0)
        let run = runWhileLeader(view, clock: clock, margin: .milliseconds(100), resigned: resigned)
        try await waitUntilStarted(run.started)
        // An extension moves the deadline; the old cancellation point passes without effect.
        extend(view, to: start + Duration.milliseconds(800), at: start + Duration.milliseconds(300))
        clock.set(start + .milliseconds(450))
        try await Task.sleep(for: .milliseconds(60))
        #expect(run.cancelledAt.withLock { $0 } == nil, "still leading: 450 ms < 800 ms − 100 ms")
        // Past the new cancellation point, with no extension: cancelled, before the deadline.
        clock.set(start + .milliseconds(710))
        let outcome = await run.task.value
        guard case .failure(let error) = outcome, let lost = error as? LeadershipLost else {
            Issue.record("whileLeader ended with \(outcome)")
            return
        }
        #expect(lost == LeadershipLost(term: 1, reason: .deadlineApproaching))
        let cancelled = try #require(run.cancelledAt.withLock { $0 })
        #expect(cancelled < start + .milliseconds(800), "cancelled before the deadline")
        #expect(resigned.withLock { $0 } == 0, "a lost lease is not a resignation")
    }

    @Test func theEndOfTheLeaseCancelsTheBodyAtOnce() async throws {
        let clock = HandClock(start)
        let view = leadingView(until: start + .seconds(10))
        let resigned = Shared(0)
        let run = runWhileLeader(view, clock: clock, margin: .milliseconds(100), resigned: resigned)
        try await waitUntilStarted(run.started)
        view.absorb([.transferStarted(to: 2, .requested)], role: .leader, term: 1, lease: .none, lastContact: start,
                    at: start + .milliseconds(1))
        guard case .failure(let error) = await run.task.value else {
            Issue.record("the body was not stopped")
            return
        }
        #expect(error as? LeadershipLost == LeadershipLost(term: 1, reason: .leaseEnded))
    }

    @Test func returningFromTheBodyResignsAndSeveralObserversRunAtOnce() async throws {
        let clock = HandClock(start)
        let view = leadingView(until: start + .seconds(10))
        let resigned = Shared(0)
        let observers = (0..<3).map { _ in view.updates() }
        let value = try await view.whileLeader(margin: .milliseconds(100), clock: clock,
                                               resign: { resigned.withLock { $0 += 1 } }) { grant in
            Int(grant.term.rawValue) * 10
        }
        #expect(value == 10)
        #expect(resigned.withLock { $0 } == 1)
        for observer in observers {
            var iterator = observer.makeAsyncIterator()
            guard case .current(let state)? = await iterator.next() else {
                Issue.record("an observer did not start with the state")
                continue
            }
            #expect(state.isLeader(at: start))
        }
    }
}
