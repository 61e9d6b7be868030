import BallotCore
import BallotRuntime
import Testing

/// The view's registry of lease holders (issue 15, released hand-overs): an ended lease is
/// releasable only once every holder confirmed it stopped under it.
@Suite struct LeaseHoldersTests {
    let start = MonotonicInstant(nanoseconds: 5_000_000_000)

    /// A view of node 1 leading term 1 with a lease until `start + 100 ms`.
    func leadingView() -> LeadershipView {
        let view = LeadershipView(node: 1)
        view.start(at: start, role: .follower, term: 0)
        view.absorb([.roleChanged(.leader, term: 1), .leaderChanged(LeaderInfo(id: 1, term: 1))], role: .leader, term: 1,
                    lease: .until(start + .milliseconds(100)), lastContact: start, at: start)
        return view
    }

    /// The lease ends now (a transfer began); returns the end's index.
    func endLease(_ view: LeadershipView, at instant: MonotonicInstant) -> UInt64 {
        view.absorb([], role: .leader, term: 1, lease: .none, lastContact: instant, at: instant)
        return view.current.index
    }

    @Test func withoutHoldersAnEndedLeaseIsReleasableOnceAndNotWhileHeld() {
        let view = leadingView()
        #expect(view.releasableLease(at: start) == nil, "held")
        let now = start + .milliseconds(10)
        _ = endLease(view, at: now)
        #expect(view.releasableLease(at: now) == 1)
        view.noteLeaseReleased()
        #expect(view.releasableLease(at: now) == nil, "released once")
    }

    @Test func aHolderMustConfirmTheEndItselfNotAnEarlierIndex() {
        let view = leadingView()
        let holder = view.registerHolder()
        let now = start + .milliseconds(10)
        let end = endLease(view, at: now)
        #expect(view.releasableLease(at: now) == nil)
        view.holderStopped(holder, through: end - 1)
        #expect(view.releasableLease(at: now) == nil, "stopped only under what it saw before the end")
        view.holderStopped(holder, through: end)
        #expect(view.releasableLease(at: now) == 1)
    }

    @Test func aConfirmationDoesNotCountForALeaseThatBeganAfterIt() {
        let view = leadingView()
        let holder = view.registerHolder()
        let first = endLease(view, at: start + .milliseconds(10))
        view.holderStopped(holder, through: first)
        // The lease comes back in the same term (a transfer timed out), and ends again.
        let again = start + .milliseconds(20)
        view.absorb([], role: .leader, term: 1, lease: .until(again + .milliseconds(100)), lastContact: again, at: again)
        #expect(view.releasableLease(at: again) == nil, "held again")
        let second = endLease(view, at: again + .milliseconds(5))
        #expect(second > first)
        #expect(view.releasableLease(at: again + .milliseconds(5)) == nil, "the holder may have acted again")
        view.holderStopped(holder, through: second)
        #expect(view.releasableLease(at: again + .milliseconds(5)) == 1)
    }

    @Test func aHolderThatVanishesUnconfirmedBlocksUntilTheDeadlineItSaw() {
        let view = leadingView()
        let holder = view.registerHolder()
        view.unregisterHolder(holder, stopped: false)  // Its stream closed while the lease was held.
        let now = start + .milliseconds(10)
        _ = endLease(view, at: now)
        #expect(view.releasableLease(at: now) == nil)
        #expect(view.releasableLease(at: start + .milliseconds(99)) == nil)
        #expect(view.releasableLease(at: start + .milliseconds(100)) == 1, "its last deadline passed")
    }

    @Test func aHolderThatLeavesStoppedDoesNotBlock() {
        let view = leadingView()
        let holder = view.registerHolder()
        view.unregisterHolder(holder, stopped: true)  // A whileLeader body that returned.
        let now = start + .milliseconds(10)
        _ = endLease(view, at: now)
        #expect(view.releasableLease(at: now) == 1)
        #expect(view.holderCount == 0)
        #expect(!view.holderStopped(holder, through: 99), "unknown once gone")
    }

    @Test func theProducerIsToldWhenAHolderConfirms() {
        let view = leadingView()
        let told = EventLog()
        view.onHolderChange { told.append(.lost(previous: 1, term: 1, index: 0, at: .zero)) }
        let holder = view.registerHolder()
        let end = endLease(view, at: start + .milliseconds(10))
        view.holderStopped(holder, through: end)
        #expect(told.events.count == 1)
    }
}
