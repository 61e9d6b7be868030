import BallotCore
import BallotSimulation
import Testing

/// Issue 7: a crashed leader's closed connections are evidence, not proof. They make failover fast
/// and must never let a flapping connection depose a healthy leader.
@Suite struct FastFailoverTests {
    let electionTimeout = 150.0  // T in virtual ms with the default options.

    func electedCluster(nodes: Int, seed: UInt64, fastFailover: Bool = true) -> (ScriptedCluster, NodeStatus) {
        var cluster = ScriptedCluster(nodes: nodes, seed: seed) { $0.fastFailover = fastFailover }
        cluster.run(upTo: 20 * electionTimeout) { c in
            guard let leader = c.leader else { return false }
            return c.statuses.allSatisfy { $0.leader == leader.id }
        }
        cluster.run(milliseconds: 100)
        return (cluster, cluster.leader!)
    }

    /// With evidence, a survivor leads within a fraction of T; without it, only after T or more.
    @Test(arguments: [3, 5])
    func crashedLeaderIsReplacedWellWithinOneElectionTimeout(nodes: Int) {
        var fast: [Double] = []
        var slow: [Double] = []
        for seed in UInt64(1)...8 {
            for evidence in [true, false] {
                var (cluster, leader) = electedCluster(nodes: nodes, seed: seed, fastFailover: evidence)
                cluster.crash(leader.id)
                let took = cluster.run(upTo: 20 * electionTimeout) { c in
                    c.statuses.contains { $0.id != leader.id && $0.role == .leader }
                }
                #expect(took != nil)
                #expect(cluster.violations.isEmpty)
                if evidence { fast.append(took ?? .infinity) } else { slow.append(took ?? .infinity) }
            }
        }
        #expect(fast.max()! < electionTimeout / 2, "fast failovers: \(fast)")
        #expect(slow.min()! >= electionTimeout * 0.9, "timeout failovers: \(slow)")
    }

    /// A false report at one follower (a flapping connection wrongly taken for a dead process):
    /// the others still hear the leader and refuse, so the leader and its term survive.
    @Test(arguments: [3, 5])
    func aFalseAlarmAtOneFollowerDoesNotDeposeAHealthyLeader(nodes: Int) {
        for seed in UInt64(1)...10 {
            var (cluster, leader) = electedCluster(nodes: nodes, seed: seed)
            let follower = cluster.statuses.first { $0.id != leader.id }!.id
            cluster.reportUnreachable(leader.id, to: follower)
            cluster.run(milliseconds: 10 * electionTimeout)
            #expect(cluster.leader?.id == leader.id, "seed \(seed)")
            #expect(cluster.leader?.term == leader.term, "seed \(seed): the term must not move")
            #expect(cluster.status(of: follower).leader == leader.id)
            #expect(cluster.violations.isEmpty)
        }
    }

    /// A partition gives no evidence (nothing is refused), so a cut-off leader is replaced only
    /// through the ordinary timeouts — and the rejoin does not disrupt the new leader.
    @Test func aPartitionGivesNoEvidenceAndFailsOverByTimeout() {
        var (cluster, leader) = electedCluster(nodes: 5, seed: 4)
        let cut = cluster.isolate(leader.id)
        let took = cluster.run(upTo: 20 * electionTimeout) { c in
            c.statuses.contains { $0.id != leader.id && $0.role == .leader }
        }
        #expect(took != nil && took! >= electionTimeout * 0.9)
        cluster.heal(cut)
        let successor = cluster.statuses.first { $0.id != leader.id && $0.role == .leader }!
        cluster.run(milliseconds: 10 * electionTimeout)
        #expect(cluster.leader?.id == successor.id)
        #expect(cluster.violations.isEmpty)
    }
}
