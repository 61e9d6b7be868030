import BallotCore
import BallotTestKit
import Testing

/// Raft §5.1, §5.2, §8: how a node becomes leader, and how terms demote it.
@Suite("Elections and terms (Raft §5.1, §5.2, §8)")
struct ElectionTests {
    // Raft §5.2 with n = 1: the node's own vote is a quorum, so it wins the moment its timer fires.
    @Test("Raft §5.2: a single-node cluster elects itself, with or without PreVote", arguments: [true, false])
    func singleNode(preVote: Bool) throws {
        var node = makeNode(1, of: 1, config: raftConfig(preVote: preVote))
        let fired = try node.tickToCampaign()
        #expect(fired.ticks >= T && fired.ticks < 2 * T)
        let leaderLog = LogPosition(index: 1, term: 1)
        var expected: [Action] = []
        if preVote {
            expected += [.roleChanged(.preCandidate, term: 0), .campaignStarted(.preVote, term: 1)]
        }
        expected += [
            .persist(HardState(term: 1, votedFor: 1, lastLog: .empty)),
            .roleChanged(.candidate, term: 1),
            .campaignStarted(.vote, term: 1),
            .campaignFinished(.won, ticks: 0),
            // Raft §8: the new leader appends a no-op entry of its term.
            .persist(HardState(term: 1, votedFor: 1, lastLog: leaderLog)),
            .roleChanged(.leader, term: 1),
            .leaderChanged(LeaderInfo(id: 1, term: 1)),
        ]
        #expect(fired.actions == expected)
        #expect(node.status.role == .leader)
        #expect(node.status.leader == 1)
        #expect(node.status.lastLog == leaderLog)
        #expect(node.status.holdsLease)
        // Alone, it hears from a quorum (itself) forever: CheckQuorum never deposes it.
        let later = node.tick(times: 10 * T)
        #expect(later.isEmpty)
        #expect(node.status.role == .leader)
        #expect(node.status.holdsLease)
    }

    // Raft §5.2 and thesis §9.6: follower → pre-candidate (term unchanged) → candidate (term + 1, votes
    // for itself, persisted before asking) → leader (no-op entry, heartbeats), with hand-delivered answers.
    @Test("Raft §5.2, thesis §9.6: follower → pre-candidate → candidate → leader", arguments: [3, 4, 5])
    func fullProgression(size: Int) throws {
        var node = makeNode(1, of: size, seed: 11)
        let peers = (2...size).map(nodeID)
        let needed = cluster(size).quorum - 1

        // Timer fires: a pre-vote for term 1, term still 0, nothing persisted.
        let fired = try node.tickToCampaign()
        let preVote = VoteRequest(term: 1, lastLog: .empty)
        #expect(fired.actions == [.roleChanged(.preCandidate, term: 0), .campaignStarted(.preVote, term: 1)]
            + peers.map { .send(.preVoteRequest(preVote), to: $0) })
        #expect(node.status.role == .preCandidate)
        #expect(node.status.term == 0)
        #expect(node.status.votedFor == nil)

        // Pre-vote grants: nothing happens until a quorum (counting itself) has granted.
        for (count, voter) in peers.prefix(needed).enumerated() {
            let actions = node.receive(.preVoteResponse(VoteResponse(term: 1, granted: true)), from: voter)
            if count + 1 < needed {
                #expect(actions.isEmpty)
                #expect(node.status.role == .preCandidate)
                continue
            }
            let request = VoteRequest(term: 1, lastLog: .empty)
            #expect(actions == [
                .persist(HardState(term: 1, votedFor: 1, lastLog: .empty)),
                .roleChanged(.candidate, term: 1),
                .campaignStarted(.vote, term: 1),
            ] + peers.map { .send(.voteRequest(request), to: $0) })
        }
        #expect(node.status.role == .candidate)
        #expect(node.status.term == 1)
        #expect(node.status.votedFor == 1)

        // Vote grants: leader once a quorum granted.
        for (count, voter) in peers.prefix(needed).enumerated() {
            let actions = node.receive(.voteResponse(VoteResponse(term: 1, granted: true)), from: voter)
            if count + 1 < needed {
                #expect(actions.isEmpty)
                continue
            }
            let leaderLog = LogPosition(index: 1, term: 1)
            let heartbeat = Heartbeat(term: 1, sequence: 1, leaderLog: leaderLog)
            #expect(actions == [
                .campaignFinished(.won, ticks: 0),
                .persist(HardState(term: 1, votedFor: 1, lastLog: leaderLog)),
                .roleChanged(.leader, term: 1),
                .leaderChanged(LeaderInfo(id: 1, term: 1)),
            ] + peers.map { .send(.heartbeat(heartbeat), to: $0) })
        }
        #expect(node.status.role == .leader)
        #expect(node.status.leader == 1)
    }

    // The same progression through real peers: everyone ends up following the node whose timer fired
    // first, in term 1, with the leader's no-op entry (Raft §8) in their logs.
    @Test("Raft §5.2: a cluster elects the first node to time out", arguments: [2, 3, 4, 5, 6, 7])
    func clusterElection(size: Int) throws {
        for leader in [1, size].map(nodeID) {
            let network = try RaftCluster.elected(size: size, leader: leader)
            #expect(network.leaders == [leader])
            for id in network.ids {
                let status = network.status(id)
                #expect(status.term == 1)
                #expect(status.leader == leader)
                #expect(status.lastLog == LogPosition(index: 1, term: 1))
                #expect(status.role == (id == leader ? .leader : .follower))
            }
            let roles = network.actions(of: leader).compactMap { if case .roleChanged(let r, _) = $0 { r } else { nil } }
            #expect(roles == [.preCandidate, .candidate, .leader])
            #expect(network.violations == [])
        }
    }

    // Raft §5.1: "If a server receives a request or response with a term greater than its own, it
    // updates its term … If a candidate or leader discovers that its term is out of date, it
    // immediately reverts to follower state."
    @Test("Raft §5.1: a higher term in any message demotes a leader", arguments: [
        Message.heartbeat(Heartbeat(term: 5, sequence: 1, leaderLog: LogPosition(index: 2, term: 5))),
        .heartbeatResponse(HeartbeatResponse(term: 5, sequence: 1, lastLog: .empty)),
        .voteResponse(VoteResponse(term: 5, granted: false)),
        .preVoteResponse(VoteResponse(term: 5, granted: false)),
        .voteRequest(VoteRequest(term: 5, lastLog: LogPosition(index: 9, term: 4))),
    ])
    func higherTermDemotesLeader(message: Message) throws {
        // Stickiness off so that a vote request from a higher term is not refused (see PreVoteTests).
        var leader = try handElectedLeader(1, of: 3, config: raftConfig(stickiness: false))
        let actions = leader.receive(message, from: 2)
        #expect(leader.status.role == .follower)
        #expect(leader.status.term == 5)
        #expect(leader.status.leaseExpiry == nil)
        #expect(actions.first == .steppedDown(.higherTerm))
        #expect(actions.contains(.roleChanged(.follower, term: 5)))
        let persistAt = try #require(actions.firstIndex { $0.persisted?.term == 5 })
        if let firstSend = actions.firstIndex(where: { $0.sent != nil }) {
            #expect(persistAt < firstSend, "the new term must be durable before anything is sent in it")
        }
        if case .heartbeat = message {
            #expect(leader.status.leader == 2)
            #expect(leader.status.lastLog == LogPosition(index: 2, term: 5))
        } else {
            #expect(leader.status.leader == nil)
        }
        if case .voteRequest = message {
            #expect(leader.status.votedFor == 2)
            #expect(actions.sends == [Sent(message: .voteResponse(VoteResponse(term: 5, granted: true)), to: 2)])
        } else {
            #expect(leader.status.votedFor == nil)
        }
    }

    @Test("Raft §5.1: a higher term demotes a candidate and a pre-candidate, closing their campaign", arguments: [
        Role.preCandidate, .candidate,
    ])
    func higherTermDemotesCampaigner(role: Role) throws {
        var node = makeNode(1, of: 5, seed: 3)
        _ = try node.tickToCampaign()
        if role == .candidate {
            _ = node.receive(.preVoteResponse(VoteResponse(term: 1, granted: true)), from: 2)
            _ = node.receive(.preVoteResponse(VoteResponse(term: 1, granted: true)), from: 3)
        }
        try #require(node.status.role == role)
        let actions = node.receive(
            .heartbeat(Heartbeat(term: 4, sequence: 1, leaderLog: LogPosition(index: 3, term: 4))), from: 5)
        #expect(actions.campaignEvents == [.campaignFinished(.lost, ticks: 0)])
        #expect(actions.stepDowns.isEmpty, "only a leader steps down")
        #expect(node.status.role == .follower)
        #expect(node.status.term == 4)
        #expect(node.status.leader == 5)
        #expect(node.status.votedFor == nil)
    }

    // Raft §5.1: "If a server receives a request with a stale term number, it rejects the request."
    // The answer carries the current term so that the stale sender catches up.
    @Test("Raft §5.1: stale-term requests are answered with our term", arguments: [
        (Message.voteRequest(VoteRequest(term: 3, lastLog: LogPosition(index: 9, term: 3))),
         Message.voteResponse(VoteResponse(term: 5, granted: false))),
        (.preVoteRequest(VoteRequest(term: 4, lastLog: LogPosition(index: 9, term: 3))),
         .preVoteResponse(VoteResponse(term: 5, granted: false))),
        (.heartbeat(Heartbeat(term: 4, sequence: 17, leaderLog: LogPosition(index: 9, term: 4))),
         .heartbeatResponse(HeartbeatResponse(term: 5, sequence: 17, lastLog: LogPosition(index: 2, term: 5)))),
    ])
    func staleRequests(request: Message, answer: Message) {
        let state = HardState(term: 5, votedFor: 3, lastLog: LogPosition(index: 2, term: 5))
        var node = awakeFollower(1, of: 3, hardState: state)
        let actions = node.receive(request, from: 2)
        #expect(actions == [.send(answer, to: 2)])
        #expect(node.status.term == 5)
        #expect(node.status.votedFor == 3)
        #expect(node.status.lastLog == state.lastLog)
        #expect(node.status.leader == nil)
    }

    @Test("Raft §5.1: stale-term responses and TimeoutNow are dropped", arguments: [
        Message.voteResponse(VoteResponse(term: 4, granted: true)),
        .preVoteResponse(VoteResponse(term: 4, granted: true)),
        .heartbeatResponse(HeartbeatResponse(term: 4, sequence: 1, lastLog: .empty)),
        .timeoutNow(TimeoutNow(term: 4)),
    ])
    func staleResponses(message: Message) throws {
        var leader = try handElectedLeader(1, of: 3, hardState: HardState(term: 4))
        try #require(leader.status.term == 5)
        let before = leader.status
        #expect(leader.receive(message, from: 2) == [])
        #expect(leader.status == before)
    }

    @Test("Messages from non-members and from oneself are ignored")
    func foreignSenders() throws {
        var leader = try handElectedLeader(1, of: 3)
        let before = leader.status
        let heartbeat = Message.heartbeat(Heartbeat(term: 9, sequence: 1, leaderLog: .empty))
        #expect(leader.receive(heartbeat, from: 7) == [])
        #expect(leader.receive(heartbeat, from: 1) == [])
        #expect(leader.status == before)
    }

    // Raft §5.2: "While waiting for votes, a candidate may receive an AppendEntries RPC from another
    // server claiming to be leader. If the leader's term is … at least as large as the candidate's
    // current term, then the candidate recognizes the leader as legitimate and returns to follower."
    @Test("Raft §5.2: a candidate yields to a leader of its own term")
    func candidateYieldsToSameTermLeader() throws {
        var node = makeNode(1, of: 3, config: raftConfig(preVote: false), seed: 2)
        _ = try node.tickToCampaign()
        try #require(node.status.role == .candidate)
        let actions = node.receive(.heartbeat(Heartbeat(term: 1, sequence: 1, leaderLog: LogPosition(index: 1, term: 1))), from: 3)
        #expect(node.status.role == .follower)
        #expect(node.status.term == 1)
        #expect(node.status.votedFor == 1, "the vote it cast for itself stays")
        #expect(node.status.leader == 3)
        #expect(actions.campaignEvents == [.campaignFinished(.lost, ticks: 0)])
        #expect(actions.sends == [Sent(
            message: .heartbeatResponse(HeartbeatResponse(term: 1, sequence: 1, lastLog: LogPosition(index: 1, term: 1))),
            to: 3)])
    }

    @Test("Raft §5.2: a leader ignores a heartbeat claiming its own term")
    func leaderIgnoresSameTermHeartbeat() throws {
        var leader = try handElectedLeader(1, of: 3)
        let before = leader.status
        #expect(leader.receive(.heartbeat(Heartbeat(term: 1, sequence: 1, leaderLog: .empty)), from: 2) == [])
        #expect(leader.status == before)
    }

    @Test("Raft §5.2: a candidate that a quorum refuses returns to follower without raising its term again")
    func quorumRefusal() throws {
        var node = makeNode(1, of: 3, config: raftConfig(preVote: false), seed: 4)
        _ = try node.tickToCampaign()
        _ = node.tick(times: 3)
        #expect(node.receive(.voteResponse(VoteResponse(term: 1, granted: false)), from: 2).campaignEvents.isEmpty)
        let actions = node.receive(.voteResponse(VoteResponse(term: 1, granted: false)), from: 3)
        #expect(actions.campaignEvents == [.campaignFinished(.lost, ticks: 3)])
        #expect(node.status.role == .follower)
        #expect(node.status.term == 1)
        #expect(node.status.votedFor == 1)
    }
}
