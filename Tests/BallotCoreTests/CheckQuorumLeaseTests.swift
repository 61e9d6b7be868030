import BallotCore
import BallotTestKit
import Testing

/// Thesis §6.2 (CheckQuorum) and §6.4.1 (leader lease built on leader stickiness).
@Suite("CheckQuorum and the leader lease (thesis §6.2, §6.4.1)")
struct CheckQuorumLeaseTests {
    // Thesis §6.2: "a leader … steps down if an election timeout elapses without a successful round of
    // heartbeats to a majority of its cluster." The lease must be gone before that.
    @Test("Thesis §6.2: an isolated leader loses its lease, then steps down within T + 2 ticks", arguments: [3, 4, 5])
    func isolatedLeaderStepsDown(size: Int) throws {
        var network = try RaftCluster.elected(size: size)
        network.run(ticks: 5)
        #expect(network.status(1).holdsLease)
        let isolatedAt = network.status(1).now
        let mark = network.mark
        network.isolate(1)

        var leaseLostAt: UInt64?
        var steppedDownAt: UInt64?
        for _ in 0..<(3 * Int(T)) {
            network.step()
            let status = network.status(1)
            if leaseLostAt == nil && !status.holdsLease { leaseLostAt = status.now }
            if status.role != .leader {
                steppedDownAt = status.now
                break
            }
        }
        let down = try #require(steppedDownAt)
        let lost = try #require(leaseLostAt)
        #expect(down - isolatedAt <= T + 2, "stepped down \(down - isolatedAt) ticks after isolation")
        #expect(down - isolatedAt >= T, "stepped down before an election timeout had passed")
        #expect(lost < down, "the lease outlived leadership")
        #expect(lost - isolatedAt <= raftConfig().leaseTicks + 1)
        let actions = network.actions(of: 1, since: mark)
        #expect(actions.stepDowns == [.lostQuorum])
        #expect(actions.persists.isEmpty, "stepping down changes nothing durable")
        #expect(actions.contains(.roleChanged(.follower, term: 1)))
        #expect(actions.contains(.leaderChanged(nil)))
        #expect(network.status(1).term == 1)
        #expect(network.status(1).leader == nil)

        // The majority side elects a new leader in a later term; at no point did two nodes hold a lease.
        let elected = network.runUntil(maxTicks: 5 * Int(T)) { net in
            net.leaders.contains { $0 != 1 && net.status($0).holdsLease }
        }
        #expect(elected != nil)
        #expect(network.violations == [])
    }

    @Test("Thesis §6.2: a leader that still hears a quorum keeps leadership and lease", arguments: [
        (3, [3]), (4, [4]), (5, [4, 5]), (6, [5, 6]), (7, [5, 6, 7]),
    ])
    func minorityLossIsTolerated(size: Int, lost: [Int]) throws {
        var network = try RaftCluster.elected(size: size)
        network.run(ticks: 2)
        for id in lost { network.isolate(nodeID(id)) }
        for _ in 0..<(5 * Int(T)) {
            network.step()
            #expect(network.status(1).holdsLease)
        }
        #expect(network.status(1).role == .leader)
        #expect(network.actions(of: 1).stepDowns == [])
        #expect(network.violations == [])
    }

    @Test("Thesis §6.2: with 4 nodes, a leader hearing only one follower (2 of 4) steps down")
    func evenClusterNeedsThree() throws {
        var network = try RaftCluster.elected(size: 4)
        network.run(ticks: 2)
        network.cut(1, 3)
        network.cut(1, 4)
        let ticks = network.runUntil(maxTicks: 3 * Int(T)) { $0.status(1).role != .leader }
        let taken = try #require(ticks)
        #expect(taken <= Int(T) + 2)
        #expect(network.actions(of: 1).stepDowns == [.lostQuorum])
        #expect(network.violations == [])
    }

    @Test("Thesis §6.2: with CheckQuorum off an isolated leader stays leader, but never holds a lease")
    func checkQuorumOff() throws {
        var network = try RaftCluster.elected(size: 3, config: raftConfig(checkQuorum: false))
        network.run(ticks: 3)
        #expect(!network.status(1).holdsLease, "no lease without CheckQuorum")
        #expect(network.status(1).leaseExpiry == nil)
        network.isolate(1)
        network.run(ticks: 5 * Int(T))
        #expect(network.status(1).role == .leader)
        #expect(network.actions(of: 1).stepDowns == [])
    }

    // Thesis §6.4.1: the lease runs from the send time of a heartbeat that a quorum acknowledged.
    @Test("Thesis §6.4.1: the lease starts with a quorum's acknowledgement and ends leaseTicks after that heartbeat was sent")
    func leaseFromAcknowledgement() throws {
        var leader = try handElectedLeader(1, of: 3)
        let electedAt = leader.status.now
        let lease = raftConfig().leaseTicks
        #expect(leader.status.leaseExpiry == nil, "no lease before anyone acknowledged")
        #expect(!leader.status.holdsLease)

        // A response to a heartbeat that was never sent is no evidence.
        _ = leader.receive(.heartbeatResponse(HeartbeatResponse(term: 1, sequence: 99, lastLog: LogPosition(index: 1, term: 1))), from: 2)
        #expect(leader.status.leaseExpiry == nil)

        _ = leader.tick(times: 2)  // heartbeats 2 and 3 go out at electedAt + 1, + 2
        _ = leader.receive(.heartbeatResponse(HeartbeatResponse(term: 1, sequence: 1, lastLog: LogPosition(index: 1, term: 1))), from: 2)
        #expect(leader.status.leaseExpiry == electedAt + lease)
        #expect(leader.status.holdsLease)
        // A newer acknowledgement extends it; an older one never shortens it.
        _ = leader.receive(.heartbeatResponse(HeartbeatResponse(term: 1, sequence: 3, lastLog: LogPosition(index: 1, term: 1))), from: 3)
        #expect(leader.status.leaseExpiry == electedAt + 2 + lease)
        _ = leader.receive(.heartbeatResponse(HeartbeatResponse(term: 1, sequence: 2, lastLog: LogPosition(index: 1, term: 1))), from: 3)
        #expect(leader.status.leaseExpiry == electedAt + 2 + lease)

        // Without further acknowledgements the lease runs out while the node still leads.
        while leader.status.now < electedAt + 2 + lease - 1 { _ = leader.tick() }
        #expect(leader.status.holdsLease)
        _ = leader.tick()
        #expect(leader.status.role == .leader)
        #expect(!leader.status.holdsLease)
    }

    @Test("Thesis §6.4.1: with 5 nodes the lease follows the second-freshest acknowledgement")
    func leaseNeedsQuorumOfAcks() throws {
        var leader = try handElectedLeader(1, of: 5)
        let electedAt = leader.status.now
        let lease = raftConfig().leaseTicks
        let log = LogPosition(index: 1, term: 1)
        _ = leader.tick(times: 3)  // heartbeats 1…4 sent at electedAt … electedAt + 3
        _ = leader.receive(.heartbeatResponse(HeartbeatResponse(term: 1, sequence: 4, lastLog: log)), from: 2)
        #expect(leader.status.leaseExpiry == nil, "one acknowledgement of five members is no quorum")
        _ = leader.receive(.heartbeatResponse(HeartbeatResponse(term: 1, sequence: 1, lastLog: log)), from: 3)
        #expect(leader.status.leaseExpiry == electedAt + lease)
        _ = leader.receive(.heartbeatResponse(HeartbeatResponse(term: 1, sequence: 3, lastLog: log)), from: 5)
        #expect(leader.status.leaseExpiry == electedAt + 2 + lease)
        _ = leader.receive(.heartbeatResponse(HeartbeatResponse(term: 1, sequence: 4, lastLog: log)), from: 4)
        #expect(leader.status.leaseExpiry == electedAt + 3 + lease)
    }

    @Test("Thesis §6.4.1: no lease while a transfer is in progress, even with fresh acknowledgements")
    func noLeaseWhileTransferring() throws {
        var leader = try handElectedLeader(1, of: 3)
        let log = LogPosition(index: 1, term: 1)
        _ = leader.receive(.heartbeatResponse(HeartbeatResponse(term: 1, sequence: 1, lastLog: log)), from: 3)
        #expect(leader.status.holdsLease)
        _ = try leader.transferLeadership(to: 2)
        #expect(leader.status.transferTarget == 2)
        #expect(leader.status.leaseExpiry == nil)
        #expect(!leader.status.holdsLease)
        for _ in 0..<3 {
            let sent = leader.tick().sends.compactMap { if case .heartbeat(let h) = $0.message { h } else { nil } }
            let heartbeat = try #require(sent.first)
            #expect(heartbeat.transferTarget == 2, "heartbeats announce the transfer")
            _ = leader.receive(.heartbeatResponse(HeartbeatResponse(term: 1, sequence: heartbeat.sequence, lastLog: log)), from: 3)
            #expect(!leader.status.holdsLease)
        }
    }

    @Test("Followers, candidates and pre-candidates never hold a lease")
    func onlyLeadersHoldLeases() throws {
        let follower = awakeFollower(2, of: 3)
        #expect(follower.status.leaseExpiry == nil)
        #expect(!follower.status.holdsLease)
        var campaigner = makeNode(1, of: 3, seed: 4)
        _ = try campaigner.tickToCampaign()
        #expect(!campaigner.status.holdsLease)
        _ = campaigner.receive(.preVoteResponse(VoteResponse(term: 1, granted: true)), from: 2)
        #expect(campaigner.status.role == .candidate)
        #expect(!campaigner.status.holdsLease)
    }
}
