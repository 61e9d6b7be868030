import BallotCore
import BallotTestKit
import Testing

/// Campaign events (one campaign spans pre-vote and vote), shutdown, and determinism.
@Suite("Campaign events, shutdown and determinism")
struct CampaignAndLifecycleTests {
    // MARK: Campaign events

    @Test("Raft §5.2: an unanswered campaign times out after its timeout and a new one starts in the same batch")
    func campaignTimesOut() throws {
        var node = makeNode(1, of: 3, seed: 17)
        let first = try node.tickToCampaign()
        #expect(first.actions.campaignEvents == [.campaignStarted(.preVote, term: 1)])
        let timeout = try #require(node.ticksUntilTimeout)
        let quiet = node.tick(times: timeout - 1)
        #expect(quiet.isEmpty)
        let actions = node.tick()
        #expect(actions.campaignEvents == [.campaignFinished(.timedOut, ticks: timeout), .campaignStarted(.preVote, term: 1)])
        #expect(actions.firstIndex { $0.campaignOutcome != nil }! < actions.firstIndex { $0.campaignPhase != nil }!)
        #expect(!actions.contains { if case .roleChanged = $0 { true } else { false } }, "still a pre-candidate")
    }

    @Test("Raft §5.2, thesis §9.6: a campaign spans pre-vote and vote and finishes once, with the ticks since it began")
    func campaignSpansBothPhases() throws {
        var node = makeNode(1, of: 3, seed: 17)
        var all = try node.tickToCampaign().actions
        all += node.tick(times: 3)
        all += node.receive(.preVoteResponse(VoteResponse(term: 1, granted: true)), from: 2)
        all += node.tick(times: 2)
        all += node.receive(.voteResponse(VoteResponse(term: 1, granted: true)), from: 3)
        #expect(all.campaignEvents == [
            .campaignStarted(.preVote, term: 1), .campaignStarted(.vote, term: 1), .campaignFinished(.won, ticks: 5),
        ])
    }

    @Test("Raft §5.2: a campaign lost in its vote phase reports lost with its full duration")
    func campaignLostInVotePhase() throws {
        var node = makeNode(1, of: 5, seed: 23)
        var all = try node.tickToCampaign().actions
        all += node.tick(times: 1)
        for voter in [2, 3].map(nodeID) { all += node.receive(.preVoteResponse(VoteResponse(term: 1, granted: true)), from: voter) }
        all += node.tick(times: 4)
        for voter in [2, 3, 4].map(nodeID) { all += node.receive(.voteResponse(VoteResponse(term: 1, granted: false)), from: voter) }
        #expect(all.campaignEvents == [
            .campaignStarted(.preVote, term: 1), .campaignStarted(.vote, term: 1), .campaignFinished(.lost, ticks: 5),
        ])
        #expect(node.status.role == .follower)
        #expect(node.status.term == 1)
    }

    @Test("Raft §5.2: a candidate whose vote times out starts over with a pre-vote for the next term")
    func candidateTimesOut() throws {
        var node = makeNode(1, of: 3, seed: 29)
        _ = try node.tickToCampaign()
        _ = node.receive(.preVoteResponse(VoteResponse(term: 1, granted: true)), from: 2)
        let timeout = try #require(node.ticksUntilTimeout)
        let actions = node.tick(times: timeout)
        #expect(actions.campaignEvents == [.campaignFinished(.timedOut, ticks: timeout), .campaignStarted(.preVote, term: 2)])
        #expect(actions.contains(.roleChanged(.preCandidate, term: 1)))
        #expect(node.status.term == 1)
    }

    @Test("Campaign events pair up and report true durations across many elections")
    func campaignPairingInClusters() throws {
        for seed in UInt64(0)..<10 {
            var network = RaftCluster(size: 5, seed: seed)
            network.lossRate = 0.2
            network.faultRandom = SplitMix64(seed: seed)
            for round in 0..<8 {
                // Cut off whoever leads now for 3T ticks, forcing a new election each round.
                if let leader = network.leaders.first { network.isolate(leader) }
                network.run(ticks: 3 * Int(T))
                network.heal()
                network.run(ticks: 2 * Int(T) + round)
            }
            let started = network.history.filter { $0.action.campaignPhase == .preVote }.count
            let finished = network.history.filter { $0.action.campaignOutcome != nil }.count
            #expect(started >= 8, "seed \(seed): every round should force at least one campaign")
            #expect(finished >= started - 5 && finished <= started, "seed \(seed)")
            #expect(network.violations == [], "seed \(seed)")
        }
    }

    // MARK: Shutdown

    @Test("shutdown() on a leader steps down with reason shutdown, changing nothing durable")
    func shutdownLeader() throws {
        var leader = try handElectedLeader(1, of: 3)
        _ = leader.receive(.heartbeatResponse(HeartbeatResponse(term: 1, sequence: 1, lastLog: LogPosition(index: 1, term: 1))), from: 2)
        #expect(leader.status.holdsLease)
        let actions = leader.shutdown()
        #expect(actions == [.steppedDown(.shutdown), .roleChanged(.follower, term: 1), .leaderChanged(nil)])
        #expect(leader.status.role == .follower)
        #expect(leader.status.term == 1)
        #expect(!leader.status.holdsLease)
        #expect(leader.shutdown() == [], "a second shutdown does nothing")
    }

    @Test("shutdown() on a follower or campaigner does nothing")
    func shutdownNonLeader() throws {
        var follower = awakeFollower(2, of: 3)
        let before = follower.status
        #expect(follower.shutdown() == [])
        #expect(follower.status == before)
        var campaigner = makeNode(1, of: 3, seed: 4)
        _ = try campaigner.tickToCampaign()
        #expect(campaigner.shutdown() == [])
        #expect(campaigner.status.role == .preCandidate)
    }

    @Test("After the leader shuts down, the others elect a new leader in a later term")
    func clusterSurvivesShutdown() throws {
        var network = try RaftCluster.elected(size: 3)
        network.run(ticks: 3)
        network.shutdown(1)
        network.isolate(1)  // the process is gone
        #expect(network.actions(of: 1).stepDowns == [.shutdown])
        let ticks = network.runUntil(maxTicks: 5 * Int(T)) { $0.leaders.count == 1 && $0.leaders != [1] }
        #expect(ticks != nil)
        #expect(network.leaders.allSatisfy { network.status($0).term == 2 })
        #expect(network.violations == [])
    }

    // MARK: Determinism

    /// A scripted history with every kind of input: elections, partitions, loss, a transfer, a restart.
    private func scriptedHistory(seed: UInt64) -> [Event] {
        var network = RaftCluster(size: 5, seed: seed)
        network.faultRandom = SplitMix64(seed: seed)
        network.run(ticks: 3 * Int(T))
        network.lossRate = 0.1
        network.isolate(network.leaders.first ?? 1)
        network.run(ticks: 3 * Int(T))
        network.heal()
        network.cut(2, 3)
        network.run(ticks: 2 * Int(T))
        network.lossRate = 0
        network.heal()
        network.run(ticks: 2 * Int(T))
        if let leader = network.leaders.first {
            try? network.transfer(from: leader, to: leader == 4 ? 5 : 4)
        }
        network.restart(2, seed: seed &+ 1)
        network.run(ticks: 3 * Int(T))
        return network.history
    }

    @Test("Same seed ⇒ identical action sequences; another seed ⇒ a different history")
    func determinism() {
        for seed in [UInt64(1), 2, 0xDEAD_BEEF] {
            let first = scriptedHistory(seed: seed)
            let second = scriptedHistory(seed: seed)
            #expect(first.count > 100)
            #expect(first == second, "seed \(seed) replayed differently")
        }
        #expect(scriptedHistory(seed: 1) != scriptedHistory(seed: 2))
    }

    @Test("A node copied mid-run behaves identically to the original (value semantics, no hidden state)")
    func valueSemantics() throws {
        var original = makeNode(3, of: 5, seed: 77)
        _ = original.tick(times: 5)
        var copy = original
        for step in 0..<(6 * Int(T)) {
            if step % 7 == 3 {
                let message = Message.preVoteResponse(VoteResponse(term: original.status.term.next, granted: true))
                #expect(original.receive(message, from: 1) == copy.receive(message, from: 1))
            }
            #expect(original.tick() == copy.tick())
            #expect(original.status == copy.status)
        }
    }
}
