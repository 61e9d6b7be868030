import BallotCore
import BallotRuntime
import BallotSimulation
import Testing

/// Scripted histories for the rules that random schedules only hit by chance.
@Suite struct ScenarioTests {
    /// T in virtual milliseconds with the default options (15 ticks × 10 ms).
    let electionTimeout = 150.0

    func electedCluster(nodes: Int, seed: UInt64 = 3, configure: (inout SimulationOptions) -> Void = { _ in })
        -> (ScriptedCluster, NodeStatus)
    {
        var cluster = ScriptedCluster(nodes: nodes, seed: seed, configure: configure)
        let took = cluster.run(upTo: 20 * electionTimeout) { c in
            guard let leader = c.leader else { return false }
            return c.statuses.allSatisfy { $0.leader == leader.id }
        }
        #expect(took != nil, "no leader elected")
        return (cluster, cluster.leader!)
    }

    func someFollower(of cluster: ScriptedCluster, leader: NodeStatus) -> NodeID {
        cluster.statuses.first { $0.id != leader.id }!.id
    }

    /// Thesis §9.6: with PreVote, a follower cut off for many election timeouts rejoins without
    /// raising its term, so the healthy leader keeps leading.
    @Test func rejoiningFollowerDoesNotDeposeTheLeaderWithPreVote() {
        var (cluster, leader) = electedCluster(nodes: 5)
        let follower = someFollower(of: cluster, leader: leader)
        let cut = cluster.isolate(follower)
        cluster.run(milliseconds: 10 * electionTimeout)
        #expect(cluster.status(of: follower).term == leader.term, "pre-votes must not raise the term")
        cluster.heal(cut)
        cluster.run(milliseconds: 10 * electionTimeout)
        #expect(cluster.leader?.id == leader.id)
        #expect(cluster.leader?.term == leader.term)
        #expect(cluster.status(of: follower).leader == leader.id)
        #expect(cluster.violations.isEmpty)
    }

    /// Raft §5.1 without the thesis' protections: the isolated follower keeps raising its term and,
    /// when it returns, its higher term forces the leader to step down.
    @Test func rejoiningFollowerDeposesTheLeaderWithoutPreVoteOrStickiness() {
        var (cluster, leader) = electedCluster(nodes: 5) {
            $0.preVote = false
            $0.leaderStickiness = false
        }
        let follower = someFollower(of: cluster, leader: leader)
        let cut = cluster.isolate(follower)
        cluster.run(milliseconds: 10 * electionTimeout)
        #expect(cluster.status(of: follower).term > leader.term)
        cluster.heal(cut)
        let deposed = cluster.run(upTo: 5 * electionTimeout) { $0.status(of: leader.id).term > leader.term }
        #expect(deposed != nil, "the returning node's higher term should have deposed the leader")
        #expect(cluster.violations.isEmpty)
    }

    /// Thesis §6.2: a leader cut off into a minority stops leading within one election timeout,
    /// and its lease is gone before that; the majority elects a new leader meanwhile.
    @Test(arguments: [3, 5])
    func isolatedLeaderStepsDownWithinOneElectionTimeout(nodes: Int) {
        var (cluster, leader) = electedCluster(nodes: nodes)
        cluster.run(milliseconds: 50)  // A round of heartbeats grants the lease.
        #expect(cluster.holdsValidLease(leader.id))
        cluster.isolate(leader.id)
        var probe = cluster
        let leaseGone = cluster.run(upTo: 3 * electionTimeout) { !$0.holdsValidLease(leader.id) }
        let stepDown = probe.run(upTo: 3 * electionTimeout) { $0.status(of: leader.id).role != .leader }
        // One election timeout, plus a tick of granularity and 5% clock drift.
        let bound = (electionTimeout + 10) * 1.05
        #expect(stepDown != nil && stepDown! <= bound, "stepped down after \(String(describing: stepDown)) ms")
        #expect(leaseGone != nil && leaseGone! <= stepDown!)
        let newLeader = probe.run(upTo: 10 * electionTimeout) { c in
            c.statuses.contains { $0.id != leader.id && $0.role == .leader }
        }
        #expect(newLeader != nil)
        #expect(probe.violations.isEmpty)
    }

    /// Thesis §3.10: a transfer to an up-to-date follower completes in about one round trip.
    @Test func transferCompletesWithinAboutOneRoundTrip() throws {
        var (cluster, leader) = electedCluster(nodes: 3) {
            $0.network.minDelayMicroseconds = 1_000
            $0.network.maxDelayMicroseconds = 1_000
        }
        cluster.run(milliseconds: 100)  // Let heartbeats tell the leader who is up to date.
        let target = someFollower(of: cluster, leader: leader)
        try cluster.transferLeadership(from: leader.id, to: target)
        let took = cluster.run(upTo: electionTimeout) { $0.leader?.id == target }
        // TimeoutNow (½ RTT) + vote request and response (1 RTT), with 1 ms one-way delays.
        #expect(took != nil && took! <= 3.5, "transfer took \(String(describing: took)) ms")
        #expect(cluster.leader!.term == leader.term.next)
        #expect(cluster.violations.isEmpty)
    }

    /// Thesis §3.10: a transfer to a node that cannot be reached is aborted after one election
    /// timeout, and the leader keeps leading (and regains its lease).
    @Test func transferToAnUnreachableNodeIsAbortedAndLeadershipResumes() throws {
        var (cluster, leader) = electedCluster(nodes: 5)
        let target = someFollower(of: cluster, leader: leader)
        cluster.isolate(target)
        try cluster.transferLeadership(from: leader.id, to: target)
        #expect(!cluster.holdsValidLease(leader.id), "no lease while a transfer is in flight")
        cluster.run(milliseconds: 1.5 * electionTimeout)
        #expect(cluster.leader?.id == leader.id)
        #expect(cluster.status(of: leader.id).transferTarget == nil)
        #expect(cluster.holdsValidLease(leader.id))
        #expect(cluster.violations.isEmpty)
    }

    /// Raft §5.2 with crash-recovery: votes and terms survive restarts, and a full-cluster restart
    /// elects again in a higher term.
    @Test func wholeClusterRestartElectsAgainInAHigherTerm() {
        var (cluster, leader) = electedCluster(nodes: 3)
        for id in 1...3 { cluster.crash(NodeID(UInt64(id))!) }
        for id in 1...3 { cluster.restart(NodeID(UInt64(id))!) }
        #expect(cluster.statuses.allSatisfy { $0.term >= leader.term })
        let took = cluster.run(upTo: 20 * electionTimeout) { $0.leader != nil }
        #expect(took != nil)
        #expect(cluster.leader!.term > leader.term)
        #expect(cluster.violations.isEmpty)
    }

    /// A disk that fails a write halts its node at that persist, exactly as the server does: the
    /// vote or term it could not save never leaves it. Once the disk is repaired and the node
    /// restarted, the cluster elects again.
    @Test func aFailedDiskHaltsItsNodeAndTheClusterRecoversAfterRepair() {
        var (cluster, leader) = electedCluster(nodes: 3)
        let follower = someFollower(of: cluster, leader: leader)
        let other = cluster.members.first { $0 != leader.id && $0 != follower }!
        cluster.failDisk(of: follower)
        cluster.crash(leader.id)
        // The follower must persist a new term (its own campaign, or its vote) to go on: it halts.
        let halted = cluster.run(upTo: 10 * electionTimeout) { $0.halt(of: follower) != nil }
        #expect(halted != nil, "the follower halted at its first persist")
        #expect(cluster.halt(of: follower)?.reason == .stateWriteFailed)
        cluster.run(milliseconds: 5 * electionTimeout)
        #expect(cluster.leader == nil, "one live member of three cannot elect")
        #expect(!cluster.holdsValidLease(follower) && !cluster.holdsValidLease(other))
        cluster.failDisk(of: follower, false)
        cluster.restart(leader.id)
        let recovered = cluster.run(upTo: 20 * electionTimeout) { c in
            guard let leader = c.leader else { return false }
            return c.statuses.allSatisfy { $0.leader == leader.id }
        }
        #expect(recovered != nil)
        #expect(cluster.halt(of: follower) == nil, "repaired and restarted")
        #expect(cluster.violations.isEmpty, "\(cluster.violations)")
    }
}
