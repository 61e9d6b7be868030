import BallotCore
import BallotTestKit
import Testing

/// Raft §5.2: randomized election timeouts, and what resets them.
@Suite("Election timer (Raft §5.2)")
struct ElectionTimerTests {
    // Raft §5.2: "election timeouts are chosen randomly from a fixed interval" — here [T, 2T).
    @Test("Raft §5.2: the first timeout lies in [T, 2T) over many seeds and takes every value", arguments: [
        UInt64(2), 3, 5, 10, 37,
    ])
    func firstTimeoutRange(t: UInt64) throws {
        var seen = Set<UInt64>()
        for seed in UInt64(0)..<600 {
            var node = makeNode(1, of: 3, config: raftConfig(electionTimeout: t), seed: seed)
            let fired = try node.tickToCampaign()
            #expect(fired.ticks >= t && fired.ticks < 2 * t, "seed \(seed): timeout \(fired.ticks) outside [\(t), \(2 * t))")
            seen.insert(fired.ticks)
        }
        // Actually randomized: with 600 draws every one of the T values shows up (for T ≤ 37 the
        // chance of missing one is below 37·(36/37)^600 < 1e-5, and the seeds are fixed anyway).
        #expect(seen == Set(t..<(2 * t)))
    }

    @Test("Raft §5.2: every later timeout (a campaign that got no answers) is redrawn from [T, 2T)")
    func laterTimeouts() throws {
        for seed in UInt64(0)..<20 {
            var node = makeNode(2, of: 5, seed: seed)
            var gaps: [UInt64] = []
            for _ in 0..<30 {
                let fired = try node.tickToCampaign()
                gaps.append(fired.ticks)
            }
            // The first gap is from start-up; the others are between successive unanswered campaigns.
            #expect(gaps.allSatisfy { $0 >= T && $0 < 2 * T }, "seed \(seed): \(gaps)")
            #expect(Set(gaps.dropFirst()).count > 3, "seed \(seed): timeouts barely vary: \(gaps)")
            #expect(node.status.term == 0, "unanswered pre-votes never raise the term")
        }
    }

    @Test("Raft §5.2: different nodes with different seeds draw different timeouts")
    func timeoutsDifferAcrossNodes() {
        let network = RaftCluster(size: 7, seed: 99)
        let timeouts = network.ids.compactMap { network.node($0).ticksUntilTimeout }
        #expect(timeouts.count == 7)
        #expect(Set(timeouts).count > 1)
    }

    // Raft §5.2: a follower that keeps hearing the leader never starts an election.
    @Test("Raft §5.2: heartbeats keep a follower from timing out")
    func heartbeatsResetTimer() {
        var follower = awakeFollower(2, of: 3)
        for sequence in UInt64(1)...UInt64(5 * T) {
            let actions = follower.receive(
                .heartbeat(Heartbeat(term: 1, sequence: sequence, leaderLog: LogPosition(index: 1, term: 1))), from: 1)
            #expect(actions.contains(where: { $0.campaignPhase != nil }) == false)
            let ticked = follower.tick()
            #expect(ticked.campaignEvents.isEmpty, "follower campaigned despite a heartbeat every tick")
        }
        #expect(follower.status.role == .follower)
        #expect(follower.status.leader == 1)
        #expect(follower.status.ticksSinceLeaderContact == 1)
    }

    // Raft §5.2 (Figure 2, Followers): "If election timeout elapses without receiving AppendEntries RPC
    // from current leader or granting vote to candidate: convert to candidate."
    // The request is in the voter's own term, so no term change (which resets the timer anyway) is
    // involved: the grant alone must restart it.
    @Test("Raft §5.2: granting a vote restarts the election timer with a fresh [T, 2T) timeout")
    func voteGrantResetsTimer() throws {
        var follower = awakeFollower(2, of: 3, hardState: HardState(term: 4))
        let before = try #require(follower.ticksUntilTimeout)
        #expect(before < T, "the awake follower is close to its timeout")
        let actions = follower.receive(.voteRequest(VoteRequest(term: 4, lastLog: .empty)), from: 3)
        #expect(actions.sends == [Sent(message: .voteResponse(VoteResponse(term: 4, granted: true)), to: 3)])
        let after = try #require(follower.ticksUntilTimeout)
        #expect(after >= T && after < 2 * T)
        // A refusal in the same term does not: the refused candidate is no reason to wait longer.
        let refusedAt = try #require(follower.ticksUntilTimeout)
        _ = follower.receive(.voteRequest(VoteRequest(term: 4, lastLog: .empty)), from: 1)
        #expect(follower.ticksUntilTimeout == refusedAt)
    }

    // After a pre-vote was won, the real election starts its own fresh timeout.
    @Test("Raft §5.2: each campaign phase gets a fresh timeout")
    func phaseResetsTimer() throws {
        var node = makeNode(1, of: 3, seed: 5)
        _ = try node.tickToCampaign()
        _ = node.tick(times: T - 1)  // most of the pre-vote timeout used up
        guard node.status.role == .preCandidate else {
            Issue.record("pre-vote timed out within T - 1 ticks")
            return
        }
        _ = node.receive(.preVoteResponse(VoteResponse(term: 1, granted: true)), from: 2)
        #expect(node.status.role == .candidate)
        let remaining = try #require(node.ticksUntilTimeout)
        #expect(remaining >= T && remaining < 2 * T)
    }
}
