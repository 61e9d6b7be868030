import BallotCore
import BallotRuntime
import NIOCore
import Testing

@testable import BallotServer

/// The one encoder of `/events` and blocking queries: order, skipping what the state shows,
/// superseded extensions, overflow, closing.
@Suite struct LeadershipEventHubTests {
    let start = MonotonicInstant(nanoseconds: 9_000_000_000)

    func view() -> LeadershipView {
        let view = LeadershipView(node: 1)
        view.start(at: start, role: .follower, term: 0)
        return view
    }

    func elect(_ view: LeadershipView, term: Term, at offset: Int) {
        let at = start + .milliseconds(offset)
        view.absorb([.roleChanged(.leader, term: term), .leaderChanged(LeaderInfo(id: 1, term: term))], role: .leader,
                    term: term, lease: .until(at + .milliseconds(900)), lastContact: at, at: at)
    }

    func extend(_ view: LeadershipView, term: Term, at offset: Int) {
        let at = start + .milliseconds(offset)
        view.absorb([], role: .leader, term: term, lease: .until(at + .milliseconds(900)), lastContact: at, at: at)
    }

    func text(_ events: [ServerSentEvent], leading: Bool = true) -> [String] {
        events.map { String(buffer: $0.bytes(isLeader: leading)) }
    }

    @Test func aSubscriberGetsWhatFollowsItsStateOnceAndInOrder() async {
        let view = view()
        let hub = LeadershipEventHub(view: view)
        defer { hub.close() }
        elect(view, term: 1, at: 10)
        let (state, start) = hub.subscribe()
        #expect(state.index == 2, "elected and the lease begun")
        var cursor = start
        extend(view, term: 1, at: 60)  // Moves the deadline 50 of 900 ms: not sent.
        extend(view, term: 1, at: 300)  // 290 ms: sent.
        view.absorb([.steppedDown(.lostQuorum), .roleChanged(.follower, term: 1), .leaderChanged(nil)], role: .follower,
                    term: 1, lease: .none, lastContact: nil, at: self.start + .milliseconds(400))
        guard case .events(let events) = await hub.next(after: &cursor) else {
            Issue.record("no events")
            return
        }
        let names = text(events).map { $0.split(separator: "\n")[1] }
        #expect(names == ["event: lease", "event: lost", "event: lease"])
        #expect(text(events)[1].hasPrefix("id: 3\n"))
        #expect(text(events, leading: false)[2].contains("\"ends\":true,\"is_leader\":false}"))
    }

    @Test func aLaggingSubscriberSkipsSupersededExtensionsButNoLoss() async {
        let view = view()
        let hub = LeadershipEventHub(view: view)
        defer { hub.close() }
        var (_, cursor) = hub.subscribe()
        elect(view, term: 1, at: 10)
        for step in 1...50 { extend(view, term: 1, at: 10 + 20 * step) }
        view.absorb([.steppedDown(.transfer), .roleChanged(.follower, term: 2), .leaderChanged(nil),
                     .leaderChanged(LeaderInfo(id: 2, term: 2))], role: .follower, term: 2, lease: .none, lastContact: nil,
                    at: start + .seconds(2))
        guard case .events(let events) = await hub.next(after: &cursor) else {
            Issue.record("no events")
            return
        }
        let names = text(events).map { String($0.split(separator: "\n")[1].dropFirst(7)) }
        #expect(names == ["elected", "lease", "lease", "lost", "elected", "lease"], "begin, newest extension, …, end")
        // The newest extension sent is within a quarter of the lease (900 ms) of the newest deadline.
        let newest = (start + .milliseconds(1_010 + 900)).nanoseconds
        let sent = text(events)[2].split(separator: "\"until_mono_ns\":")[1].prefix { $0.isNumber }
        #expect(UInt64(sent)! + 225_000_000 >= newest && UInt64(sent)! <= newest)
    }

    @Test func leaseExtensionsAreSentOnceTheDeadlineMovedAQuarterOfTheLease() {
        let at = MonotonicInstant(nanoseconds: 1_000_000_000)
        func change(_ untilMs: Int, ends: Bool = false) -> LeaseChange {
            LeaseChange(term: 1, at: at, until: ends ? at : at + .milliseconds(untilMs))
        }
        let published = (at + .milliseconds(800)).nanoseconds
        #expect(LeadershipEventHub.publishes(change(900), changesIndex: true, after: published), "a begin always")
        #expect(LeadershipEventHub.publishes(change(0, ends: true), changesIndex: true, after: published), "an end always")
        #expect(!LeadershipEventHub.publishes(change(900), changesIndex: false, after: published), "moved 100 of 900 ms")
        #expect(LeadershipEventHub.publishes(change(1_100), changesIndex: false, after: published), "moved 300 of 1100 ms")
        #expect(LeadershipEventHub.publishes(change(900), changesIndex: false, after: nil), "nothing sent yet")
    }

    @Test func aSubscriberMoreThanTheLogBehindOverflowsAndClosingEndsTheRest() async {
        let view = view()
        let hub = LeadershipEventHub(view: view)
        var (_, behind) = hub.subscribe()
        elect(view, term: 1, at: 10)
        // Extensions far enough apart that each is sent (a quarter of the lease, 225 ms, each).
        for step in 1...(LeadershipEventHub.capacity + 10) { extend(view, term: 1, at: 10 + 300 * step) }
        guard case .overflowed = await hub.next(after: &behind) else {
            Issue.record("a subscriber past the log was not told it overflowed")
            return
        }
        var (_, waiting) = hub.subscribe()
        let waiter = Task { await hub.next(after: &waiting) }
        try? await Task.sleep(for: .milliseconds(20))
        hub.close()
        guard case .closed = await waiter.value else {
            Issue.record("closing did not end a waiting subscriber")
            return
        }
    }

    @Test func aBlockingQueryWakesOnAChangeOrTimesOut() async {
        let view = view()
        let hub = LeadershipEventHub(view: view)
        defer { hub.close() }
        #expect(await hub.waitForIndex(above: 0, timeout: .milliseconds(30)) == false)
        let waiting = Task { await hub.waitForIndex(above: 0, timeout: .seconds(60)) }
        try? await Task.sleep(for: .milliseconds(20))
        elect(view, term: 1, at: 10)
        #expect(await waiting.value)
        #expect(await hub.waitForIndex(above: 1, timeout: .seconds(60)), "an index already passed answers at once")
    }
}
