import BallotCore
import BallotTestKit
import Testing

/// Lease succession: a new leader's lease begins only after every lease published before it has run
/// out — also when voters waived stickiness for a transfer or for a crashed leader, and so elected
/// it early. Election stays as fast as before; only the lease (what `/primary`, `whileLeader` and
/// the sidecar act on) waits, because a process outside the old node (the sidecar's CMD) may run
/// until the old deadline if it misses the notice.
///
/// The nodes here tick in lockstep, so their `now` values can be compared.
@Suite struct LeaseSuccessionTests {
    /// A three-node cluster led by 1, past its first heartbeats; its lease deadline.
    func ledCluster() throws -> (RaftCluster, oldDeadline: UInt64) {
        var network = try RaftCluster.elected(size: 3)
        network.run(ticks: 2)
        let deadline = try #require(network.status(1).leaseExpiry)
        try #require(network.ids.allSatisfy { network.status($0).now == network.status(1).now })
        return (network, deadline)
    }

    /// Steps until `node` holds a lease; returns the tick at which it first did.
    func firstLeaseTick(of node: NodeID, in network: inout RaftCluster) throws -> UInt64 {
        let steps = network.runUntil(maxTicks: 3 * Int(T)) { $0.status(node).holdsLease }
        try #require(steps != nil, "node \(node) never held a lease")
        return network.status(node).now
    }

    @Test("After a transfer the target leads at once, but its lease begins when the old one has run out")
    func aTransferWaitsOutTheOldLease() throws {
        var (network, oldDeadline) = try ledCluster()
        let transferredAt = network.status(1).now
        try network.transfer(from: 1, to: 2)
        network.deliverAll()
        #expect(network.leaders == [2])
        #expect(network.status(2).now == transferredAt, "elected within the tick: election is not delayed")
        #expect(!network.status(2).holdsLease)
        let begun = try firstLeaseTick(of: 2, in: &network)
        #expect(begun >= oldDeadline, "lease of term 2 began at \(begun), before term 1's deadline \(oldDeadline)")
        // Not later than needed: the promises end T after the old leader's last heartbeat.
        #expect(begun <= transferredAt + T + 1)
        #expect(network.violations == [])
    }

    @Test("After a crash reported as evidence the survivors elect at once, and the lease waits out the dead leader's")
    func aCrashWaitsOutTheDeadLeadersLease() throws {
        var (network, oldDeadline) = try ledCluster()
        let crashedAt = network.status(2).now
        network.crash(1)
        network.reportUnreachable(1, at: 2)
        network.reportUnreachable(1, at: 3)
        let elected = network.runUntil(maxTicks: Int(T)) { $0.leaders.count == 1 }
        #expect(elected != nil && elected! < Int(T) / 2, "fast failover still elects within a few ticks")
        let leader = try #require(network.leaders.first)
        let begun = try firstLeaseTick(of: leader, in: &network)
        #expect(begun >= oldDeadline, "lease began at \(begun), before the dead leader's deadline \(oldDeadline)")
        #expect(begun <= crashedAt + T + 1)
        #expect(network.violations == [])
    }

    @Test("A follower owing an earlier leader its promise acknowledges the new one with sequence 0, which credits no lease")
    func anAcknowledgementInsideAnEarlierPromiseCreditsNothing() throws {
        var (follower, log, promisedAt, early) = followerOwingAnEarlierPromise()
        #expect(early.sends.map(\.message) == [.heartbeatResponse(HeartbeatResponse(term: 2, sequence: 0, lastLog: log))])
        _ = follower.tick(times: T - 1)
        let stillEarly = follower.receive(.heartbeat(Heartbeat(term: 2, sequence: 2, leaderLog: log)), from: 2)
        #expect(stillEarly.sends.map(\.message) == [.heartbeatResponse(HeartbeatResponse(term: 2, sequence: 0, lastLog: log))])
        _ = follower.tick()
        #expect(follower.status.now == promisedAt + T)
        let credited = follower.receive(.heartbeat(Heartbeat(term: 2, sequence: 3, leaderLog: log)), from: 2)
        #expect(credited.sends.map(\.message) == [.heartbeatResponse(HeartbeatResponse(term: 2, sequence: 3, lastLog: log))])
        // The same leadership keeps getting credit: only a change of leadership withholds it.
        let next = follower.receive(.heartbeat(Heartbeat(term: 2, sequence: 4, leaderLog: log)), from: 2)
        #expect(next.sends.map(\.message) == [.heartbeatResponse(HeartbeatResponse(term: 2, sequence: 4, lastLog: log))])
    }

    @Test("A leader elected after the timeout ran out holds its lease after its first heartbeat round")
    func anOrdinaryElectionDoesNotWait() throws {
        var (network, _) = try ledCluster()
        network.crash(1)  // No evidence: the survivors wait out their timeouts, as after a partition.
        let elected = network.runUntil(maxTicks: 4 * Int(T)) { $0.leaders.count == 1 }
        try #require(elected != nil)
        let leader = try #require(network.leaders.first)
        let wonAt = network.status(leader).now
        let begun = try firstLeaseTick(of: leader, in: &network)
        #expect(begun <= wonAt + 1, "won at \(wonAt), lease from \(begun)")
        #expect(network.violations == [])
    }

    @Test("A leader that steps down credits no successor before its own published lease has run out")
    func aSteppedDownLeaderWithholdsCreditForItsOwnLease() throws {
        var leader = try handElectedLeader(1, of: 3)
        let log = LogPosition(index: 2, term: 1)
        _ = leader.tick()
        _ = leader.receive(.heartbeatResponse(HeartbeatResponse(term: 1, sequence: 1, lastLog: log)), from: 2)
        let deadline = try #require(leader.status.leaseExpiry)
        // A transfer's target wins term 2 and sends its heartbeat.
        _ = try leader.transferLeadership(to: 2)
        _ = leader.receive(.voteRequest(VoteRequest(term: 2, lastLog: log, isTransfer: true)), from: 2)
        #expect(leader.status.role == .follower)
        // Every deadline it published is at most the step-down tick plus the lease.
        let clearAt = leader.status.now + raftConfig().leaseTicks
        #expect(clearAt >= deadline)
        let early = leader.receive(.heartbeat(Heartbeat(term: 2, sequence: 1, leaderLog: log)), from: 2)
        #expect(early.sends.map(\.message) == [.heartbeatResponse(HeartbeatResponse(term: 2, sequence: 0, lastLog: log))])
        _ = leader.tick(times: deadline - 1 - leader.status.now)
        let atDeadline = leader.receive(.heartbeat(Heartbeat(term: 2, sequence: 2, leaderLog: log)), from: 2)
        #expect(atDeadline.sends.map(\.message) == [.heartbeatResponse(HeartbeatResponse(term: 2, sequence: 0, lastLog: log))])
        _ = leader.tick(times: clearAt - leader.status.now)
        let late = leader.receive(.heartbeat(Heartbeat(term: 2, sequence: 3, leaderLog: log)), from: 2)
        #expect(late.sends.map(\.message) == [.heartbeatResponse(HeartbeatResponse(term: 2, sequence: 3, lastLog: log))])
    }
}

/// Released hand-overs: when the old leader's shell says every holder of its lease stopped, the
/// successor's lease need not wait for the old deadline — but only that leadership's promise goes.
@Suite struct ReleasedHandOverTests {
    func ledCluster() throws -> (RaftCluster, oldDeadline: UInt64) {
        var network = try RaftCluster.elected(size: 3)
        network.run(ticks: 2)
        let deadline = try #require(network.status(1).leaseExpiry)
        return (network, deadline)
    }

    @Test("A transfer whose old leader released its lease: the target's lease begins within a heartbeat round, long before the old deadline")
    func aReleasedTransferBeginsTheLeaseAtOnce() throws {
        var (network, oldDeadline) = try ledCluster()
        let transferredAt = network.status(1).now
        try network.transfer(from: 1, to: 2)
        let mark = network.mark
        network.releaseLease(1, term: 1)
        #expect(network.sent(.leaseReleased, since: mark).count == 2, "to every peer")
        network.deliverAll()
        #expect(network.leaders == [2])
        let steps = network.runUntil(maxTicks: 3) { $0.status(2).holdsLease }
        #expect(steps != nil, "lease of term 2 not begun within 3 ticks of the transfer")
        #expect(network.status(2).now < oldDeadline, "began at \(network.status(2).now); old deadline \(oldDeadline)")
        #expect(network.status(2).now <= transferredAt + 3)
        #expect(network.violations == [])
    }

    @Test("A leader not handing over keeps its right to renew: its shell's release is ignored and nothing is sent")
    func aLeaderThatMayRenewIgnoresTheRelease() throws {
        var (network, _) = try ledCluster()
        let mark = network.mark
        network.releaseLease(1, term: 1)
        #expect(network.sent(.leaseReleased, since: mark).isEmpty)
        network.run(ticks: 2)
        #expect(network.status(1).holdsLease)
    }

    @Test("A release only takes out its own leadership's promise: a promise to an earlier leader still holds the lease back")
    func aReleaseKeepsPromisesToEarlierLeaders() throws {
        var follower = awakeFollower(3, of: 3)
        let log = LogPosition(index: 1, term: 1)
        _ = follower.receive(.heartbeat(Heartbeat(term: 1, sequence: 7, leaderLog: log)), from: 1)
        // Leader 2 of term 2 (stickiness waived), then leader 2 releases term 2 — it never had a
        // lease: node 1's promise from term 1 still runs.
        _ = follower.receive(.heartbeat(Heartbeat(term: 2, sequence: 1, leaderLog: log)), from: 2)
        _ = follower.receive(.leaseReleased(LeaseReleased(term: 2)), from: 2)
        let stillOwed = follower.receive(.heartbeat(Heartbeat(term: 2, sequence: 2, leaderLog: log)), from: 2)
        #expect(stillOwed.sends.map(\.message) == [.heartbeatResponse(HeartbeatResponse(term: 2, sequence: 0, lastLog: log))])
        // Node 1's own release of term 1 frees it: the newest heartbeat of node 2 is credited at once.
        let released = follower.receive(.leaseReleased(LeaseReleased(term: 1)), from: 1)
        #expect(released.sends.map(\.message) == [.heartbeatResponse(HeartbeatResponse(term: 2, sequence: 2, lastLog: log))])
    }

    @Test("A release of a term its sender never led here, or from another node, changes nothing")
    func aReleaseFromTheWrongLeadershipIsIgnored() throws {
        var follower = awakeFollower(3, of: 3)
        let log = LogPosition(index: 1, term: 1)
        _ = follower.receive(.heartbeat(Heartbeat(term: 1, sequence: 7, leaderLog: log)), from: 1)
        _ = follower.receive(.heartbeat(Heartbeat(term: 2, sequence: 1, leaderLog: log)), from: 2)
        // Node 2 cannot release node 1's leadership of term 1; nor can node 1 release term 3.
        #expect(follower.receive(.leaseReleased(LeaseReleased(term: 1)), from: 2).sends.isEmpty)
        #expect(follower.receive(.leaseReleased(LeaseReleased(term: 3)), from: 1).sends.isEmpty)
        let owed = follower.receive(.heartbeat(Heartbeat(term: 2, sequence: 2, leaderLog: log)), from: 2)
        #expect(owed.sends.map(\.message) == [.heartbeatResponse(HeartbeatResponse(term: 2, sequence: 0, lastLog: log))])
        #expect(follower.status.term == 2, "a release never moves the term")
    }

    @Test("A leader that released its lease and whose transfer timed out steps down instead of leading without a lease")
    func aReleasedLeaderWhoseTransferFailsStepsDown() throws {
        var (network, _) = try ledCluster()
        network.cutOneWay(from: 1, to: 2)  // TimeoutNow never arrives.
        try network.transfer(from: 1, to: 2)
        network.releaseLease(1, term: 1)
        _ = network.runUntil(maxTicks: Int(T) + 1) { $0.status(1).role != .leader }
        #expect(network.status(1).role != .leader)
        #expect(network.status(1).leaseExpiry == nil)
        #expect(network.violations == [])
    }
}
