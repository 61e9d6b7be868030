import BallotCore
import Testing

/// Raft §5.2 (one vote per term), §5.4.1 (election restriction), Figure 2 (persist before replying).
@Suite("Voting (Raft §5.2, §5.4.1, Figure 2)")
struct VotingTests {
    // Raft §5.2: "Each server will vote for at most one candidate in a given term, on a first-come-
    // first-served basis." Figure 2: votedFor is persisted before the reply leaves.
    @Test("Raft §5.2: one vote per term; a repeat request from the same candidate is granted again")
    func oneVotePerTerm() {
        var voter = awakeFollower(1, of: 3)
        let request = Message.voteRequest(VoteRequest(term: 1, lastLog: .empty))

        let first = voter.receive(request, from: 2)
        #expect(first.persists.last == HardState(term: 1, votedFor: 2, lastLog: .empty))
        #expect(first.sends == [Sent(message: .voteResponse(VoteResponse(term: 1, granted: true)), to: 2)])
        #expect(voter.status.votedFor == 2)

        // A retransmitted request from the same candidate gets the same answer, without a new write.
        let again = voter.receive(request, from: 2)
        #expect(again == [.send(.voteResponse(VoteResponse(term: 1, granted: true)), to: 2)])

        // A second candidate in the same term is refused, and nothing is persisted.
        let second = voter.receive(request, from: 3)
        #expect(second == [.send(.voteResponse(VoteResponse(term: 1, granted: false)), to: 3)])
        #expect(voter.status.votedFor == 2)
        #expect(voter.status.term == 1)

        // A new term frees the vote.
        let next = voter.receive(.voteRequest(VoteRequest(term: 2, lastLog: .empty)), from: 3)
        #expect(next.persists.last == HardState(term: 2, votedFor: 3, lastLog: .empty))
        #expect(next.sends == [Sent(message: .voteResponse(VoteResponse(term: 2, granted: true)), to: 3)])
    }

    // Figure 2: votedFor is persistent state, so a node restarted from its durable state still refuses.
    @Test("Raft Figure 2: a vote survives a restart from the persisted hard state")
    func voteSurvivesRestart() throws {
        var voter = awakeFollower(1, of: 3)
        let granted = voter.receive(.voteRequest(VoteRequest(term: 3, lastLog: .empty)), from: 2)
        let durable = try #require(granted.persists.last)
        var restarted = awakeFollower(1, of: 3, hardState: durable)
        #expect(restarted.status.votedFor == 2)
        #expect(restarted.status.term == 3)
        let refusal = restarted.receive(.voteRequest(VoteRequest(term: 3, lastLog: .empty)), from: 3)
        #expect(refusal == [.send(.voteResponse(VoteResponse(term: 3, granted: false)), to: 3)])
    }

    @Test("Raft §5.2: a candidate never votes for another candidate of its own term")
    func candidateRefusesRival() throws {
        var candidate = makeNode(1, of: 3, config: raftConfig(preVote: false), seed: 8)
        _ = try candidate.tickToCampaign()
        try #require(candidate.status.role == .candidate)
        let actions = candidate.receive(.voteRequest(VoteRequest(term: 1, lastLog: .empty)), from: 2)
        #expect(actions == [.send(.voteResponse(VoteResponse(term: 1, granted: false)), to: 2)])
        #expect(candidate.status.role == .candidate)
        #expect(candidate.status.votedFor == 1)
    }

    // Raft §5.4.1: "the voter denies its vote if its own log is more up-to-date than that of the
    // candidate." The voter's log ends at index 5 of term 3.
    @Test("Raft §5.4.1: the election restriction, for votes and pre-votes alike", arguments: [
        // (candidate last index, candidate last term, granted)
        (UInt64(9), UInt64(2), false),  // longer, but an older last term
        (0, 0, false),                  // empty log
        (4, 3, false),                  // same last term, shorter
        (5, 3, true),                   // identical
        (6, 3, true),                   // same last term, longer
        (1, 4, true),                   // shorter, but a later last term
    ])
    func electionRestriction(index: UInt64, term: UInt64, granted: Bool) {
        let voterLog = LogPosition(index: 5, term: 3)
        let candidateLog = LogPosition(index: index, term: Term(term))
        let state = HardState(term: 3, votedFor: nil, lastLog: voterLog)

        var voter = awakeFollower(1, of: 3, hardState: state)
        let vote = voter.receive(.voteRequest(VoteRequest(term: 4, lastLog: candidateLog)), from: 2)
        #expect(vote.sends == [Sent(message: .voteResponse(VoteResponse(term: 4, granted: granted)), to: 2)])
        #expect(voter.status.term == 4, "a real vote request from a higher term is adopted either way")
        #expect(voter.status.votedFor == (granted ? 2 : nil))
        #expect(voter.status.lastLog == voterLog)

        var preVoter = awakeFollower(1, of: 3, hardState: state)
        let preVote = preVoter.receive(.preVoteRequest(VoteRequest(term: 4, lastLog: candidateLog)), from: 2)
        #expect(preVote.sends.count == 1)
        if case .preVoteResponse(let response) = preVote.sends.first?.message {
            #expect(response.granted == granted)
        } else {
            Issue.record("expected a pre-vote response, got \(preVote)")
        }
        #expect(preVote.persists.isEmpty)
        #expect(preVoter.status.term == 3)
    }

    // Raft Figure 2 ("update stable storage before responding to RPCs"): in every batch that changes
    // term, vote or log, the persist comes before the sends that depend on it.
    @Test("Raft Figure 2: the vote is persisted before the response that grants it")
    func persistBeforeGrant() throws {
        var voter = awakeFollower(1, of: 3)
        let actions = voter.receive(.voteRequest(VoteRequest(term: 7, lastLog: .empty)), from: 3)
        let persist = try #require(actions.lastIndex { $0.persisted == HardState(term: 7, votedFor: 3) })
        let send = try #require(actions.firstIndex { $0.sent != nil })
        #expect(persist < send)
    }

    @Test("Raft Figure 2: term and self-vote are persisted before the vote requests go out", arguments: [true, false])
    func persistBeforeRequests(preVote: Bool) throws {
        var node = makeNode(1, of: 3, config: raftConfig(preVote: preVote), seed: 21)
        var actions = try node.tickToCampaign().actions
        if preVote {
            #expect(actions.persists.isEmpty, "a pre-vote changes nothing durable")
            actions = node.receive(.preVoteResponse(VoteResponse(term: 1, granted: true)), from: 3)
        }
        let persist = try #require(actions.firstIndex { $0.persisted == HardState(term: 1, votedFor: 1) })
        let requests = actions.indices.filter { if case .voteRequest = actions[$0].sent?.message { true } else { false } }
        #expect(requests.count == 2)
        #expect(requests.allSatisfy { $0 > persist })
    }

    @Test("Raft §8, Figure 2: the leader's no-op entry is persisted before its first heartbeat")
    func persistBeforeHeartbeat() throws {
        var node = makeNode(1, of: 3, seed: 21)
        _ = try node.tickToCampaign()
        _ = node.receive(.preVoteResponse(VoteResponse(term: 1, granted: true)), from: 2)
        let actions = node.receive(.voteResponse(VoteResponse(term: 1, granted: true)), from: 2)
        let persist = try #require(actions.firstIndex {
            $0.persisted == HardState(term: 1, votedFor: 1, lastLog: LogPosition(index: 1, term: 1))
        })
        let heartbeats = actions.indices.filter { actions[$0].sent?.message.kind == .heartbeat }
        #expect(heartbeats.count == 2)
        #expect(heartbeats.allSatisfy { $0 > persist })
    }

    @Test("Raft §5.3 (as used here): a follower adopts the leader's last entry, durably, before acknowledging")
    func followerAdoptsLeaderLog() throws {
        var follower = awakeFollower(2, of: 3)
        let log = LogPosition(index: 4, term: 2)
        let actions = follower.receive(.heartbeat(Heartbeat(term: 2, sequence: 3, leaderLog: log)), from: 1)
        let persist = try #require(actions.lastIndex { $0.persisted?.lastLog == log })
        let ack = try #require(actions.firstIndex { $0.sent != nil })
        #expect(persist < ack)
        #expect(actions.sends == [Sent(
            message: .heartbeatResponse(HeartbeatResponse(term: 2, sequence: 3, lastLog: log)), to: 1)])
        // The same heartbeat again writes nothing.
        let again = follower.receive(.heartbeat(Heartbeat(term: 2, sequence: 4, leaderLog: log)), from: 1)
        #expect(again.persists.isEmpty)
    }
}
