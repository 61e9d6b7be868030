import BallotCore
import Testing

@testable import BallotSimulation

/// The checker must be able to fail: each property is fed a history that breaks it.
@Suite struct InvariantCheckerTests {
    let t = VirtualTime.milliseconds(5)

    func status(_ id: NodeID, _ role: Role, term: Term) -> NodeStatus {
        NodeStatus(id: id, role: role, term: term, votedFor: nil, leader: role == .leader ? id : nil,
                   lastLog: .empty, now: 0, ticksSinceLeaderContact: nil, leaseExpiry: nil, transferTarget: nil)
    }

    @Test func twoLeadersInOneTermAreCaught() {
        var checker = InvariantChecker()
        checker.checkNode(status(1, .leader, term: 3), at: t)
        checker.checkNode(status(2, .leader, term: 4), at: t)
        #expect(checker.violations.isEmpty)
        checker.checkNode(status(3, .leader, term: 3), at: t)
        #expect(checker.violations.map(\.property) == [.electionSafety])
    }

    @Test func aTermGoingBackwardsIsCaught() {
        var checker = InvariantChecker()
        checker.checkNode(status(1, .follower, term: 5), at: t)
        checker.checkNode(status(1, .follower, term: 4), at: t)
        #expect(checker.violations.map(\.property) == [.termMonotonicity])
    }

    @Test func aSecondVoteInOneTermIsCaughtEvenAfterARestart() {
        var checker = InvariantChecker()
        checker.recordPersist(HardState(term: 2, votedFor: 1), of: 3, at: t)
        checker.recordPersist(HardState(term: 2, votedFor: 1), of: 3, at: t)
        checker.recordPersist(HardState(term: 3, votedFor: 2), of: 3, at: t)
        #expect(checker.violations.isEmpty)
        checker.recordPersist(HardState(term: 2, votedFor: 2), of: 3, at: t)
        #expect(checker.violations.map(\.property) == [.singleVote])
    }

    @Test func aVoteSentBeforeItIsDurableIsCaught() {
        var checker = InvariantChecker()
        let grant = Message.voteResponse(VoteResponse(term: 4, granted: true))
        checker.checkSend(grant, from: 2, to: 1, durable: HardState(term: 4, votedFor: 1), at: t)
        #expect(checker.violations.isEmpty)
        checker.checkSend(grant, from: 2, to: 1, durable: HardState(term: 3, votedFor: 1), at: t)
        #expect(checker.violations.map(\.property) == [.persistBeforeSend])
    }

    @Test func twoLeaseHoldersAreCaught() {
        var checker = InvariantChecker()
        checker.checkLeases([status(1, .leader, term: 1)], at: t)
        #expect(checker.violations.isEmpty)
        checker.checkLeases([status(1, .leader, term: 1), status(2, .leader, term: 2)], at: t)
        #expect(checker.violations.map(\.property) == [.leaseExclusivity])
    }

    /// A lease that begins while a crashed or stepped-down holder's published deadline still runs
    /// is caught; one that begins after it is not.
    @Test func aLeaseBeginningInsideAPredecessorsPublishedLeaseIsCaught() {
        var checker = InvariantChecker()
        checker.recordLease(of: 1, term: 1, until: VirtualTime(microseconds: 500_000))
        // Node 1 crashed (it holds nothing now); node 2 holds a lease of term 2.
        checker.checkLeaseSuccession([status(2, .leader, term: 2)], at: VirtualTime(microseconds: 500_000))
        #expect(checker.violations.isEmpty)
        checker.checkLeaseSuccession([status(2, .leader, term: 2)], at: VirtualTime(microseconds: 499_999))
        #expect(checker.violations.map(\.property) == [.leaseSuccession])
    }

    /// Liveness on a whole simulated history: a network on which every message takes longer than the
    /// longest election timeout (2T) lets no campaign finish, so no leader can ever emerge; the
    /// simulator must report exactly that after the heal, and nothing else. The same cluster on the
    /// default network passes, so it is the network that breaks liveness, not the set-up.
    @Test func aClusterThatNeverElectsALeaderIsCaught() {
        var options = SimulationOptions(seed: 7, nodes: 3, faults: [])
        let healthy = ClusterSimulator.run(options)
        #expect(healthy.violations.isEmpty && healthy.timeToStableLeaderMicroseconds != nil)
        let longestTimeout = 2 * options.electionTimeoutTicks * options.tickMicroseconds
        options.network.minDelayMicroseconds = longestTimeout + 50_000
        options.network.maxDelayMicroseconds = longestTimeout + 100_000
        let stuck = ClusterSimulator.run(options)
        #expect(stuck.violations.map(\.property) == [.liveness], "\(stuck.violations)")
        #expect(stuck.timeToStableLeaderMicroseconds == nil)
    }
}
