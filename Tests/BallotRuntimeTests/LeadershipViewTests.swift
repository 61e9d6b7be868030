import BallotCore
import BallotRuntime
import Testing

/// The leadership view: the one place leadership lives, the events every consumer sees, in order.
@Suite struct LeadershipViewTests {
    let start = MonotonicInstant(nanoseconds: 5_000_000_000)

    @Test func findingAndLosingALeaderAreChangesWithTheLeaderlessInterval() {
        let view = LeadershipView(node: 1)
        let log = EventLog()
        view.addListener { log.append($0) }
        view.start(at: start, role: .follower, term: 3)
        #expect(view.current.leaderlessSince == start)
        let found = start + .milliseconds(120)
        view.absorb([.leaderChanged(LeaderInfo(id: 2, term: 3))], role: .follower, term: 3, lease: .none,
                    lastContact: found, at: found)
        let lost = found + .seconds(1)
        view.absorb([.leaderChanged(nil)], role: .follower, term: 3, lease: .none, lastContact: nil, at: lost)
        let again = lost + .milliseconds(40)
        view.absorb([.leaderChanged(LeaderInfo(id: 2, term: 3))], role: .follower, term: 3, lease: .none,
                    lastContact: again, at: again)
        #expect(log.events == [
            .elected(leader: 2, term: 3, isSelf: false, leaderless: .milliseconds(120), isNewLeadership: true, index: 1, at: found),
            .lost(previous: 2, term: 3, index: 2, at: lost),
            .elected(leader: 2, term: 3, isSelf: false, leaderless: .milliseconds(40), isNewLeadership: false, index: 3, at: again),
        ])
        let state = view.current
        #expect(state.index == 3)
        #expect(state.history.map(\.leader) == [2, nil, 2])
        #expect(state.leaderUptime(at: again + .seconds(1)) == .seconds(1) + .milliseconds(1_040), "same leadership: uptime kept")
        #expect(state.hasLiveLeader(at: again + .milliseconds(999), electionTimeout: .seconds(1)))
        #expect(!state.hasLiveLeader(at: again + .seconds(1), electionTimeout: .seconds(1)))
    }

    /// Beginning and ending a lease change the index; extending it moves the deadline only.
    @Test func leaseChangesAreAnnouncedAndOnlyBeginAndEndCountAsChanges() {
        let view = LeadershipView(node: 1)
        let log = EventLog()
        view.addListener { log.append($0) }
        view.start(at: start, role: .follower, term: 0)
        let won = start + .milliseconds(10)
        view.absorb([.roleChanged(.leader, term: 1), .leaderChanged(LeaderInfo(id: 1, term: 1))], role: .leader, term: 1,
                    lease: .none, lastContact: won, at: won)
        let acked = won + .milliseconds(2)
        view.absorb([], role: .leader, term: 1, lease: .until(acked + .milliseconds(90)), lastContact: acked, at: acked)
        let extended = acked + .milliseconds(50)
        view.absorb([], role: .leader, term: 1, lease: .until(extended + .milliseconds(90)), lastContact: extended,
                    at: extended)
        view.absorb([], role: .leader, term: 1, lease: .until(extended + .milliseconds(90)), lastContact: extended,
                    at: extended + .milliseconds(1))
        #expect(view.current.index == 2, "elected, then the lease began")
        let deadline = extended + .milliseconds(90)
        view.expireLease(at: deadline - .nanoseconds(1))
        #expect(view.current.index == 2, "not yet")
        view.expireLease(at: deadline + .milliseconds(1))
        #expect(view.current.index == 3)
        #expect(log.events.compactMap { if case .lease(let change, let index) = $0 { "\(index):\(change.ends)" } else { nil } }
                == ["2:false", "2:false", "3:true"])
        #expect(!view.current.isLeader(at: deadline))
        #expect(view.current.isLeader(at: deadline - .nanoseconds(1)), "the deadline, not the announcement, decides")
    }

    @Test func aHaltEndsTheClaimAtOnce() {
        let view = LeadershipView(node: 1)
        view.start(at: start, role: .leader, term: 2)
        view.absorb([.leaderChanged(LeaderInfo(id: 1, term: 2))], role: .leader, term: 2, lease: .unbounded,
                    lastContact: start, at: start)
        #expect(view.current.isLeader(at: start + .seconds(3600)))
        view.halt(Halt(reason: .stateWriteFailed, detail: "disk full"), at: start + .seconds(1))
        #expect(!view.current.isLeader(at: start + .seconds(1)))
        #expect(!view.current.hasLeader)
    }

    @Test func theHistoryKeepsTheLastTwentyChanges() {
        let view = LeadershipView(node: 1)
        view.start(at: start, role: .follower, term: 0)
        for round in 1...15 {
            let at = start + .seconds(round)
            view.absorb([.leaderChanged(LeaderInfo(id: 2, term: Term(UInt64(round))))], role: .follower,
                        term: Term(UInt64(round)), lease: .none, lastContact: at, at: at)
            view.absorb([.leaderChanged(nil)], role: .follower, term: Term(UInt64(round)), lease: .none, lastContact: nil,
                        at: at + .milliseconds(500))
        }
        let history = view.current.history
        #expect(history.count == LeadershipView.historyLimit)
        #expect(history.first?.index == 11 && history.last?.index == 30)
    }

    /// A listener added while changes happen starts from the state read under the same lock, so it
    /// neither misses an event nor sees one twice.
    @Test func aNewListenerStartsFromTheCurrentState() {
        let view = LeadershipView(node: 1)
        view.start(at: start, role: .follower, term: 4)
        view.absorb([.leaderChanged(LeaderInfo(id: 3, term: 4))], role: .follower, term: 4, lease: .none,
                    lastContact: start, at: start)
        let log = EventLog()
        let (token, state) = view.addListener { log.append($0) }
        #expect(state.index == 1 && state.leader == LeaderInfo(id: 3, term: 4))
        view.absorb([.leaderChanged(nil)], role: .follower, term: 4, lease: .none, lastContact: nil, at: start)
        #expect(log.events.map(\.index) == [2])
        view.removeListener(token)
        view.absorb([.leaderChanged(LeaderInfo(id: 3, term: 4))], role: .follower, term: 4, lease: .none,
                    lastContact: start, at: start)
        #expect(log.events.count == 1)
    }
}
