import BallotCore
import Testing

/// `ticksUntilTimer` lets the server sleep through quiet ticks (issue 7's idle cost). A promise
/// that is too late would delay an election or a heartbeat; one too early only costs a wake-up.
/// The simulator checks the promise on every tick of every schedule; these pin its exact values.
@Suite("Timer promise (ticksUntilTimer)")
struct TimerPromiseTests {
    @Test("A follower's promise is exactly its election timeout, over many seeds")
    func followerPromiseIsTheElectionTimeout() throws {
        for seed in UInt64(0)..<200 {
            var node = makeNode(2, of: 3, seed: seed)
            _ = node.tick(times: seed % 7)
            let timeout = try #require(node.ticksUntilTimeout)
            #expect(node.ticksUntilTimer == timeout, "seed \(seed)")
        }
    }

    @Test("A leader's promise is the next heartbeat, and that tick sends it")
    func leaderPromiseIsTheNextHeartbeat() throws {
        let config = raftConfig(heartbeat: 4)
        var leader = try handElectedLeader(1, of: 3, config: config)
        let interval = config.heartbeatIntervalTicks
        #expect(leader.ticksUntilTimer == interval)
        try expectPromisesKept(&leader, ticks: interval - 1)
        #expect(leader.ticksUntilTimer == 1)
        #expect(leader.tick().compactMap(\.sent).filter { $0.message.kind == .heartbeat }.count == 2)
        #expect(leader.ticksUntilTimer == interval)
    }

    @Test("A leader nobody answers keeps its promises up to the CheckQuorum step-down", arguments: [3, 5])
    func unansweredLeaderStepsDownOnAPromisedTick(size: Int) throws {
        var leader = try handElectedLeader(1, of: size, config: raftConfig(heartbeat: 3))
        try expectPromisesKept(&leader, ticks: 3 * T)
        #expect(leader.status.role != .leader, "CheckQuorum never deposed a leader nobody answered")
    }

    @Test("A transfer to a silent target expires on a promised tick")
    func transferExpiryIsPromised() throws {
        var leader = try handElectedLeader(1, of: 3, config: raftConfig(checkQuorum: false))
        _ = try leader.transferLeadership(to: 2)
        #expect(leader.ticksUntilTimer <= T)
        try expectPromisesKept(&leader, ticks: 2 * T)
        #expect(leader.status.transferTarget == nil, "the transfer never expired")
    }

    /// Ticks `count` times; every tick the node called quiet must produce nothing.
    private func expectPromisesKept(_ node: inout RaftNode, ticks count: UInt64,
                                    sourceLocation: SourceLocation = #_sourceLocation) throws {
        for step in 0..<count {
            let promised = node.ticksUntilTimer
            try #require(promised >= 1, sourceLocation: sourceLocation)
            let actions = node.tick()
            if promised > 1 {
                #expect(actions.isEmpty, "tick \(step): promised \(promised - 1) quiet ticks, got \(actions)",
                        sourceLocation: sourceLocation)
            }
        }
    }
}
