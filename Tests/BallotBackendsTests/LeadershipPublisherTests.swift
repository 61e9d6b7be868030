@testable import BallotBackends
import BallotCore
import BallotRuntime
import Synchronization
import Testing

/// How a backend's observations become the node's view and the actions the metrics count.
@Suite struct LeadershipPublisherTests {
    let start = MonotonicInstant(nanoseconds: 10_000_000_000)

    final class Recorder: BackendObserver {
        let actions = Mutex<[Action]>([])
        let failures = Mutex<[CoordinationFailure]>([])
        func executed(_ batch: [Action], at instant: MonotonicInstant) { actions.withLock { $0 += batch } }
        func coordinationRenewed(after roundTrip: Duration) {}
        func coordinationConnected(_ connected: Bool) {}
        func coordinationFailed(_ failure: CoordinationFailure) { failures.withLock { $0.append(failure) } }
        func take() -> [Action] {
            actions.withLock { actions in
                let taken = actions
                actions = []
                return taken
            }
        }
    }

    final class Tokens: FencingTokenStore {
        var saved: [Term] = []
        var failing = false
        let view: LeadershipView
        /// The view's term when each save happened: a token must be saved before it is shown.
        var viewTermAtSave: [Term] = []
        init(view: LeadershipView) { self.view = view }
        func save(highestToken token: Term) throws {
            if failing { throw StoreFailure() }
            viewTermAtSave.append(view.current.term)
            saved.append(token)
        }
        struct StoreFailure: Error {}
    }

    @Test func aCandidacyThatLeadsWinsAndClaimsUntilItsDeadline() throws {
        let view = LeadershipView(node: 1)
        let recorder = Recorder()
        let tokens = Tokens(view: view)
        let publisher = LeadershipPublisher(view: view, observer: recorder, tokens: tokens, recoveredToken: 3, at: start)
        #expect(view.current.term == 3)
        publisher.campaignStarted(at: start)
        #expect(recorder.take() == [.campaignStarted(.vote, term: 3)])
        #expect(view.current.role == .candidate)
        let renewed = start + .milliseconds(10)
        let deadline = renewed + .seconds(1)
        var observation = ElectionObservation(ownCandidacyLeads: true, ownToken: 42, claimUntil: deadline, lastContact: renewed)
        try publisher.publish(observation, at: renewed)
        #expect(recorder.take() == [.roleChanged(.leader, term: 42), .leaderChanged(LeaderInfo(id: 1, term: 42)),
                                    .campaignFinished(.won, ticks: 0)])
        #expect(tokens.saved == [42] && tokens.viewTermAtSave == [3], "saved before it was shown")
        #expect(view.current.isLeader(at: deadline - .nanoseconds(1)))
        #expect(!view.current.isLeader(at: deadline), "judged at the instant of asking")
        #expect(publisher.claimDeadline == deadline)
        // The deadline passes without a renewal: the claim ends, the node no longer knows a leader.
        try publisher.republish(at: deadline)
        #expect(recorder.take() == [.steppedDown(.lostQuorum), .roleChanged(.follower, term: 42), .leaderChanged(nil)])
        #expect(view.current.lease == .none && view.current.leader == nil)
        // A later renewal of the same candidacy claims again: the same leadership, found again.
        observation.claimUntil = deadline + .seconds(1)
        try publisher.publish(observation, at: deadline + .milliseconds(5))
        #expect(recorder.take() == [.roleChanged(.leader, term: 42), .leaderChanged(LeaderInfo(id: 1, term: 42))])
        #expect(tokens.saved == [42], "no new token, nothing saved")
    }

    @Test func anotherCandidacyLeadingLosesTheCampaign() throws {
        let view = LeadershipView(node: 2)
        let recorder = Recorder()
        let publisher = LeadershipPublisher(view: view, observer: recorder, tokens: nil, recoveredToken: 0, at: start)
        publisher.campaignStarted(at: start)
        _ = recorder.take()
        try publisher.publish(ElectionObservation(leader: LeaderInfo(id: 1, term: 7), ownToken: 9,
                                                  lastContact: start), at: start + .milliseconds(3))
        #expect(recorder.take() == [.roleChanged(.follower, term: 7), .leaderChanged(LeaderInfo(id: 1, term: 7)),
                                    .campaignFinished(.lost, ticks: 0)])
        #expect(!view.current.isLeader(at: start + .milliseconds(3)) && view.current.leader?.id == 1)
        // Our own candidacy leading without a valid claim names nobody and claims nothing.
        try publisher.publish(ElectionObservation(ownCandidacyLeads: true, ownToken: 9, claimUntil: start, lastContact: start),
                              at: start + .seconds(1))
        #expect(view.current.leader == nil && view.current.role == .follower)
    }

    @Test func aTokenThatCannotBeSavedHaltsTheNode() {
        let view = LeadershipView(node: 1)
        let tokens = Tokens(view: view)
        tokens.failing = true
        let publisher = LeadershipPublisher(view: view, observer: nil, tokens: tokens, recoveredToken: 0, at: start)
        let observation = ElectionObservation(ownCandidacyLeads: true, ownToken: 5, claimUntil: start + .seconds(9), lastContact: start)
        #expect(throws: BackendError.self) { try publisher.publish(observation, at: start) }
        #expect(view.current.halt != nil)
        #expect(!view.current.isLeader(at: start))
        #expect(throws: BackendError.self, "a halted publisher stays halted") { try publisher.publish(observation, at: start) }
    }

    @Test func shutDownStopsClaimingFirst() throws {
        let view = LeadershipView(node: 1)
        let recorder = Recorder()
        let publisher = LeadershipPublisher(view: view, observer: recorder, tokens: nil, recoveredToken: 0, at: start)
        try publisher.publish(ElectionObservation(ownCandidacyLeads: true, ownToken: 5, claimUntil: start + .seconds(9), lastContact: start),
                              at: start)
        _ = recorder.take()
        publisher.shutDown(at: start + .milliseconds(1))
        #expect(recorder.take() == [.steppedDown(.shutdown), .roleChanged(.follower, term: 5), .leaderChanged(nil)])
        #expect(!view.current.isLeader(at: start + .milliseconds(1)))
    }
}
