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
}
