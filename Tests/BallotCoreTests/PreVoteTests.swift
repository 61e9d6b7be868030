import BallotCore
import BallotTestKit
import Testing

/// Thesis §9.6 (PreVote) and §4.2.3 (leader stickiness): a node that cannot win, or that is not
/// needed, must not disturb the cluster's term.
@Suite("PreVote and leader stickiness (thesis §9.6, §4.2.3)")
struct PreVoteTests {
    // MARK: PreVote leaves terms alone

    @Test("Thesis §9.6: starting a pre-vote changes neither the pre-candidate's term nor its vote")
    func preCandidateKeepsTerm() throws {
        let state = HardState(term: 2, votedFor: 3, lastLog: LogPosition(index: 4, term: 2))
        var node = makeNode(1, of: 3, seed: 6, hardState: state)
        let fired = try node.tickToCampaign()
        #expect(fired.actions.persists.isEmpty)
        #expect(fired.actions.sends == [2, 3].map {
            Sent(message: .preVoteRequest(VoteRequest(term: 3, lastLog: state.lastLog)), to: $0)
        })
        #expect(fired.actions.contains(.campaignStarted(.preVote, term: 3)), "the proposed term is term + 1")
        #expect(node.status.role == .preCandidate)
        #expect(node.status.term == 2)
        #expect(node.status.votedFor == 3)
    }

    @Test("Thesis §9.6: answering a pre-vote, granted or refused, changes nothing on the voter", arguments: [
        (LogPosition(index: 4, term: 2), true), (LogPosition(index: 3, term: 2), false),
    ])
    func voterKeepsState(candidateLog: LogPosition, granted: Bool) throws {
        let state = HardState(term: 2, votedFor: 3, lastLog: LogPosition(index: 4, term: 2))
        var voter = awakeFollower(1, of: 3, hardState: state)
        let before = voter.status
        let timerBefore = voter.ticksUntilTimeout
        let actions = voter.receive(.preVoteRequest(VoteRequest(term: 3, lastLog: candidateLog)), from: 2)
        let response = try #require(actions.sends.first)
        #expect(actions.count == 1)
        guard case .preVoteResponse(let answer) = response.message else {
            Issue.record("expected a pre-vote response, got \(response)")
            return
        }
        #expect(answer.granted == granted)
        if granted { #expect(answer.term == 3, "a grant carries the proposed term") }
        #expect(voter.status == before)
        #expect(voter.ticksUntilTimeout == timerBefore, "a pre-vote does not restart the voter's timer")
    }

    // Thesis §9.6 with real voters: their refusals (here, both still inside their start-up window)
    // make the pre-candidate give up, and nobody's term moves.
    @Test("Thesis §9.6: a pre-vote refused by a quorum ends as lost with every term unchanged")
    func refusedPreVoteKeepsTerms() throws {
        var candidate = awakeFollower(1, of: 3)
        var voters = [nodeID(2): makeNode(2, of: 3, seed: 2), nodeID(3): makeNode(3, of: 3, seed: 3)]
        let fired = try candidate.tickToCampaign()
        var answers: [Message] = []
        for sent in fired.actions.sends {
            let reply = voters[sent.to]!.receive(sent.message, from: 1)
            #expect(reply.persists.isEmpty)
            answers += reply.sends.map(\.message)
        }
        #expect(answers.count == 2)
        var closing: [Action] = []
        for (answer, voter) in zip(answers, [nodeID(2), nodeID(3)]) {
            closing += candidate.receive(answer, from: voter)
        }
        #expect(closing.campaignEvents == [.campaignFinished(.lost, ticks: 0)])
        #expect(closing.persists.isEmpty)
        #expect(candidate.status.role == .follower)
        #expect(candidate.status.term == 0)
        #expect(candidate.status.votedFor == nil)
        for voter in voters.values {
            #expect(voter.status.term == 0)
            #expect(voter.status.votedFor == nil)
        }
    }

    @Test("Thesis §9.6: a pre-vote refusal from a voter in a later term makes the pre-candidate catch up")
    func refusalFromLaterTerm() throws {
        var candidate = awakeFollower(1, of: 3, hardState: HardState(term: 2))
        _ = try candidate.tickToCampaign()
        var voter = awakeFollower(2, of: 3, hardState: HardState(term: 7))
        let reply = voter.receive(.preVoteRequest(VoteRequest(term: 3, lastLog: .empty)), from: 1)
        #expect(voter.status.term == 7)
        let answer = try #require(reply.sends.first).message
        #expect(answer.term == 7)
        let actions = candidate.receive(answer, from: 2)
        #expect(actions.campaignEvents == [.campaignFinished(.lost, ticks: 0)])
        #expect(candidate.status.term == 7)
        #expect(candidate.status.role == .follower)
    }

    @Test("Thesis §9.6: a won pre-vote is followed by a real vote in the proposed term")
    func wonPreVoteLeadsToVote() throws {
        var node = makeNode(1, of: 5, seed: 13, hardState: HardState(term: 4, votedFor: 2, lastLog: LogPosition(index: 2, term: 4)))
        _ = try node.tickToCampaign()
        _ = node.receive(.preVoteResponse(VoteResponse(term: 5, granted: true)), from: 4)
        // A stale grant (for a proposal of an older term) does not count.
        _ = node.receive(.preVoteResponse(VoteResponse(term: 4, granted: true)), from: 5)
        #expect(node.status.role == .preCandidate)
        let actions = node.receive(.preVoteResponse(VoteResponse(term: 5, granted: true)), from: 3)
        #expect(actions.contains(.campaignStarted(.vote, term: 5)))
        #expect(!actions.contains { $0.campaignOutcome != nil }, "the pre-vote and the vote are one campaign")
        #expect(node.status.role == .candidate)
        #expect(node.status.term == 5)
        #expect(node.status.votedFor == 1)
        #expect(actions.messages(of: .voteRequest).map(\.message) == Array(repeating:
            .voteRequest(VoteRequest(term: 5, lastLog: LogPosition(index: 2, term: 4))), count: 4))
    }

    // MARK: Leader stickiness

    /// A follower of leader 1 in term 1 that has just heard a heartbeat, and whose timer will not fire
    /// within T + 1 ticks.
    private func stickyFollower(config: RaftConfiguration = raftConfig()) -> RaftNode {
        firstSeed { seed in
            var node = makeNode(2, of: 3, config: config, seed: seed)
            _ = node.tick(times: T)
            guard node.status.role == .follower else { return nil }
            _ = node.receive(.heartbeat(Heartbeat(term: 1, sequence: 1, leaderLog: LogPosition(index: 1, term: 1))), from: 1)
            guard let timeout = node.ticksUntilTimeout, timeout >= T + 2 else { return nil }
            return node
        }
    }

    private static let betterLog = LogPosition(index: 5, term: 1)

    // Thesis §4.2.3: "if a server receives a RequestVote request within the minimum election timeout of
    // hearing from a current leader, it does not update its term or grant its vote."
    @Test("Thesis §4.2.3: within T ticks of a heartbeat, pre-votes and term-raising votes are refused without adopting the term")
    func stickinessWindow() {
        var follower = stickyFollower()
        for elapsed in UInt64(0)..<T {
            var probe = follower
            let preVote = probe.receive(.preVoteRequest(VoteRequest(term: 2, lastLog: Self.betterLog)), from: 3)
            #expect(preVote.sends.count == 1)
            #expect(preVote.sends.first.map { if case .preVoteResponse(let r) = $0.message { !r.granted } else { false } } == true,
                    "pre-vote granted \(elapsed) ticks after a heartbeat")
            let vote = probe.receive(.voteRequest(VoteRequest(term: 2, lastLog: Self.betterLog)), from: 3)
            #expect(vote == [.send(.voteResponse(VoteResponse(term: 2, granted: false)), to: 3)],
                    "vote not refused \(elapsed) ticks after a heartbeat")
            #expect(probe.status.term == 1)
            #expect(probe.status.votedFor == nil)
            #expect(probe.status.leader == 1)
            _ = follower.tick()
        }
        // T ticks after the heartbeat the leader is presumed gone: both are granted.
        #expect(follower.status.role == .follower)
        var probe = follower
        let preVote = probe.receive(.preVoteRequest(VoteRequest(term: 2, lastLog: Self.betterLog)), from: 3)
        #expect(preVote == [.send(.preVoteResponse(VoteResponse(term: 2, granted: true)), to: 3)])
        #expect(probe.status.term == 1)
        let vote = probe.receive(.voteRequest(VoteRequest(term: 2, lastLog: Self.betterLog)), from: 3)
        #expect(vote.sends == [Sent(message: .voteResponse(VoteResponse(term: 2, granted: true)), to: 3)])
        #expect(probe.status.term == 2)
        #expect(probe.status.votedFor == 3)
    }

    @Test("Thesis §4.2.3: with stickiness off, a recent heartbeat does not stop a vote")
    func stickinessOff() {
        var follower = stickyFollower(config: raftConfig(stickiness: false))
        let preVote = follower.receive(.preVoteRequest(VoteRequest(term: 2, lastLog: Self.betterLog)), from: 3)
        #expect(preVote == [.send(.preVoteResponse(VoteResponse(term: 2, granted: true)), to: 3)])
        let vote = follower.receive(.voteRequest(VoteRequest(term: 2, lastLog: Self.betterLog)), from: 3)
        #expect(vote.sends == [Sent(message: .voteResponse(VoteResponse(term: 2, granted: true)), to: 3)])
        #expect(follower.status.term == 2)
    }

    // A node that just started may have promised a leader, before crashing, not to vote for T ticks;
    // it keeps that promise by refusing for the first T ticks after start-up.
    @Test("Thesis §4.2.3: during the T ticks after start-up, pre-votes and votes are refused; granted after",
          arguments: [HardState.initial, HardState(term: 3, votedFor: 2, lastLog: LogPosition(index: 2, term: 3))])
    func startupWindow(state: HardState) {
        var node = lateNode(1, of: 3, hardState: state)
        let proposed = state.term.next
        for elapsed in UInt64(0)..<T {
            var probe = node
            let preVote = probe.receive(.preVoteRequest(VoteRequest(term: proposed, lastLog: Self.betterLog.with(term: proposed))), from: 3)
            #expect(preVote.sends.count == 1)
            if case .preVoteResponse(let response) = preVote.sends.first?.message {
                #expect(!response.granted, "pre-vote granted \(elapsed) ticks after start-up")
            }
            let vote = probe.receive(.voteRequest(VoteRequest(term: proposed, lastLog: Self.betterLog.with(term: proposed))), from: 3)
            #expect(vote == [.send(.voteResponse(VoteResponse(term: proposed, granted: false)), to: 3)],
                    "vote not refused \(elapsed) ticks after start-up")
            #expect(probe.status.term == state.term)
            #expect(probe.status.votedFor == state.votedFor)
            _ = node.tick()
        }
        #expect(node.status.role == .follower)
        var probe = node
        let preVote = probe.receive(.preVoteRequest(VoteRequest(term: proposed, lastLog: Self.betterLog.with(term: proposed))), from: 3)
        #expect(preVote == [.send(.preVoteResponse(VoteResponse(term: proposed, granted: true)), to: 3)])
        let vote = node.receive(.voteRequest(VoteRequest(term: proposed, lastLog: Self.betterLog.with(term: proposed))), from: 3)
        #expect(vote.sends == [Sent(message: .voteResponse(VoteResponse(term: proposed, granted: true)), to: 3)])
        #expect(node.status.term == proposed)
    }

    @Test("Thesis §4.2.3: a leader refuses pre-votes and term-raising votes and keeps its term")
    func leaderRefuses() throws {
        // CheckQuorum off so it stays leader without acknowledgements: long after its last contact
        // with anyone, a leader still refuses.
        var leader = try handElectedLeader(1, of: 3, config: raftConfig(checkQuorum: false))
        _ = leader.tick(times: 3 * T)
        try #require(leader.status.role == .leader)
        let before = leader.status
        let preVote = leader.receive(.preVoteRequest(VoteRequest(term: 2, lastLog: Self.betterLog)), from: 2)
        #expect(preVote.sends.count == 1)
        if case .preVoteResponse(let response) = preVote.sends.first?.message { #expect(!response.granted) }
        let vote = leader.receive(.voteRequest(VoteRequest(term: 2, lastLog: Self.betterLog)), from: 2)
        #expect(vote == [.send(.voteResponse(VoteResponse(term: 2, granted: false)), to: 2)])
        #expect(leader.status == before)
    }

    @Test("Thesis §9.6: without stickiness a leader grants a pre-vote but stays leader in its term")
    func leaderPreVoteWithoutStickiness() throws {
        var leader = try handElectedLeader(1, of: 3, config: raftConfig(stickiness: false))
        let before = leader.status
        let preVote = leader.receive(.preVoteRequest(VoteRequest(term: 2, lastLog: Self.betterLog)), from: 2)
        #expect(preVote == [.send(.preVoteResponse(VoteResponse(term: 2, granted: true)), to: 2)])
        #expect(leader.status == before)
    }

    // MARK: Scripted: a partitioned follower rejoins

    /// Elects 1 in a 3-node cluster, cuts 3 off for 5T ticks, then heals the partition `offset` ticks
    /// later (so that 3 rejoins at every point of its campaign cycle) and runs 3T more ticks.
    private func rejoin(config: RaftConfiguration, offset: Int) throws -> (network: RaftCluster, healedAt: RaftCluster.Mark, termAtHeal: Term) {
        var network = try RaftCluster.elected(size: 3, config: config)
        network.run(ticks: 3)
        network.isolate(3)
        network.run(ticks: 5 * Int(T) + offset)
        let termAtHeal = network.status(3).term
        let mark = network.mark
        network.heal()
        network.run(ticks: 3 * Int(T))
        return (network, mark, termAtHeal)
    }

    // Thesis §9.6: "PreVote … prevents a server that was partitioned from disrupting the cluster when
    // it rejoins."
    @Test("Thesis §9.6: with PreVote, a partitioned follower that rejoins does not depose the leader")
    func rejoinWithPreVote() throws {
        var preVotesAnswered = 0
        for offset in 0..<(2 * Int(T)) {
            let (network, healedAt, termAtHeal) = try rejoin(config: raftConfig(), offset: offset)
            #expect(termAtHeal == 1, "offset \(offset): an isolated pre-candidate raised its term")
            #expect(network.leaders == [1], "offset \(offset)")
            #expect(network.terms == [1, 1, 1], "offset \(offset)")
            #expect(network.status(3).leader == 1, "offset \(offset)")
            #expect(network.actions(of: 1, since: healedAt).stepDowns == [], "offset \(offset)")
            #expect(network.violations == [], "offset \(offset)")
            let answered = network.history(since: healedAt).contains {
                if case .send(.preVoteResponse, to: 3) = $0.action { true } else { false }
            }
            if answered { preVotesAnswered += 1 }
        }
        // The script must actually have let the rejoining node's pre-votes reach the others.
        #expect(preVotesAnswered > 0)
    }

    @Test("Raft §5.1: without PreVote and stickiness, a partitioned follower that rejoins deposes the leader")
    func rejoinWithoutPreVote() throws {
        let config = raftConfig(preVote: false, stickiness: false)
        for offset in 0..<(2 * Int(T)) {
            var (network, healedAt, termAtHeal) = try rejoin(config: config, offset: offset)
            #expect(termAtHeal > 2, "offset \(offset): the isolated node kept raising its term")
            let stepDowns = network.actions(of: 1, since: healedAt).stepDowns
            #expect(stepDowns.first == .higherTerm, "offset \(offset): \(stepDowns)")
            #expect(stepDowns.allSatisfy { $0 == .higherTerm }, "offset \(offset): \(stepDowns)")
            // The cluster recovers in a term at least as high as the one the intruder brought.
            let recovered = network.runUntil(maxTicks: 10 * Int(T)) { $0.leaders.count == 1 }
            #expect(recovered != nil, "offset \(offset): no leader after the intruder came back")
            #expect(network.terms.allSatisfy { $0 >= termAtHeal }, "offset \(offset): \(network.terms)")
            #expect(network.violations == [], "offset \(offset)")
        }
    }

    // Liveness: nodes one term behind must learn the newer term from pre-vote refusals, or a cluster
    // split between "behind with the best logs" and "ahead with worse logs" never elects anyone.
    @Test("Thesis §9.6: nodes one term behind catch up from refusals, so an election still succeeds")
    func behindByOneTermStillElects() throws {
        let best = HardState(term: 5, votedFor: nil, lastLog: LogPosition(index: 3, term: 5))
        let worse = HardState(term: 6, votedFor: nil, lastLog: LogPosition(index: 2, term: 4))
        var network = RaftCluster(raftNodes: [
            awakeFollower(1, of: 4, hardState: best), awakeFollower(2, of: 4, hardState: best),
            awakeFollower(3, of: 4, hardState: worse), awakeFollower(4, of: 4, hardState: worse),
        ])
        let ticks = network.runUntil(maxTicks: 20 * Int(T)) { $0.leaders.count == 1 }
        #expect(ticks != nil, "no leader after 20T ticks; terms \(network.terms)")
        #expect(network.leaders.allSatisfy { [1, 2].contains($0) }, "only a node with the best log can win")
        #expect(network.violations == [])
    }
}

extension LogPosition {
    func with(term: Term) -> LogPosition { LogPosition(index: index, term: term) }
}
