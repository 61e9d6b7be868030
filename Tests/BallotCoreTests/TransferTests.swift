import BallotCore
import BallotTestKit
import Testing

/// Thesis §3.10: leadership transfer.
@Suite("Leadership transfer (thesis §3.10)")
struct TransferTests {
    @Test("Thesis §3.10: a follower cannot start a transfer, and says whom to ask")
    func refusedWhenNotLeader() throws {
        var follower = awakeFollower(2, of: 3)
        #expect(throws: TransferRefusal.notLeader(knownLeader: nil)) { _ = try follower.transferLeadership(to: 3) }
        _ = follower.receive(.heartbeat(Heartbeat(term: 1, sequence: 1, leaderLog: LogPosition(index: 1, term: 1))), from: 1)
        #expect(throws: TransferRefusal.notLeader(knownLeader: 1)) { _ = try follower.transferLeadership(to: 3) }
        var candidate = makeNode(1, of: 3, seed: 3)
        _ = try candidate.tickToCampaign()
        #expect(throws: TransferRefusal.notLeader(knownLeader: nil)) { _ = try candidate.transferLeadership(to: 2) }
    }

    @Test("Thesis §3.10: a leader refuses a transfer to itself, to a non-member, or while one is running", arguments: [
        (nodeID(1), TransferRefusal.targetIsSelf),
        (nodeID(9), .unknownTarget(9)),
        (nodeID(3), .alreadyTransferring(to: 2)),
        (nodeID(2), .alreadyTransferring(to: 2)),
    ])
    func refusals(target: NodeID, refusal: TransferRefusal) throws {
        var leader = try handElectedLeader(1, of: 3)
        if case .alreadyTransferring = refusal { _ = try leader.transferLeadership(to: 2) }
        let before = leader.status
        #expect(throws: refusal) { _ = try leader.transferLeadership(to: target) }
        #expect(leader.status == before, "a refused transfer changes nothing")
        #expect(!refusal.description.isEmpty)
    }

    // Thesis §3.10: "the prior leader sends a TimeoutNow request to the target server … [which] starts
    // a new election" as soon as the target's log is up to date.
    @Test("Thesis §3.10: TimeoutNow goes out only once the target is known to have the leader's log")
    func timeoutNowWaitsForMatchingLog() throws {
        var leader = try handElectedLeader(1, of: 3)
        let log = LogPosition(index: 1, term: 1)
        let started = try leader.transferLeadership(to: 2)
        #expect(started.messages(of: .timeoutNow).isEmpty, "nothing is known about the target's log yet")
        #expect(started.sends.map(\.message) == Array(repeating:
            .heartbeat(Heartbeat(term: 1, sequence: 2, leaderLog: log, transferTarget: 2)), count: 2))
        // An acknowledgement from someone else, or from the target with an older log, does not trigger it.
        #expect(leader.receive(.heartbeatResponse(HeartbeatResponse(term: 1, sequence: 2, lastLog: log)), from: 3).isEmpty)
        #expect(leader.receive(.heartbeatResponse(HeartbeatResponse(term: 1, sequence: 2, lastLog: .empty)), from: 2).isEmpty)
        let ready = leader.receive(.heartbeatResponse(HeartbeatResponse(term: 1, sequence: 2, lastLog: log)), from: 2)
        #expect(ready == [.send(.timeoutNow(TimeoutNow(term: 1)), to: 2)])
        // Only once.
        #expect(leader.receive(.heartbeatResponse(HeartbeatResponse(term: 1, sequence: 2, lastLog: log)), from: 2).isEmpty)
    }

    @Test("Thesis §3.10: a target already known to be up to date gets TimeoutNow at once")
    func timeoutNowAtOnce() throws {
        var leader = try handElectedLeader(1, of: 3)
        let log = LogPosition(index: 1, term: 1)
        _ = leader.receive(.heartbeatResponse(HeartbeatResponse(term: 1, sequence: 1, lastLog: log)), from: 3)
        let started = try leader.transferLeadership(to: 3)
        #expect(started.sends.last == Sent(message: .timeoutNow(TimeoutNow(term: 1)), to: 3))
        #expect(started.messages(of: .heartbeat).count == 2)
    }

    @Test("Thesis §3.10: TimeoutNow is obeyed only by a follower, and only from its leader")
    func timeoutNowOnlyFromLeader() {
        var follower = awakeFollower(2, of: 3)
        _ = follower.receive(.heartbeat(Heartbeat(
            term: 1, sequence: 1, leaderLog: LogPosition(index: 1, term: 1), transferTarget: 2)), from: 1)
        #expect(follower.receive(.timeoutNow(TimeoutNow(term: 1)), from: 3).isEmpty)
        #expect(follower.status.role == .follower)
        let actions = follower.receive(.timeoutNow(TimeoutNow(term: 1)), from: 1)
        #expect(follower.status.role == .candidate)
        #expect(follower.status.term == 2)
        // Thesis §3.10: the target campaigns at once, skipping PreVote, flagged as a transfer.
        #expect(actions.campaignEvents == [.campaignStarted(.vote, term: 2)])
        #expect(actions.messages(of: .voteRequest).map(\.message) == Array(repeating:
            .voteRequest(VoteRequest(term: 2, lastLog: LogPosition(index: 1, term: 1), isTransfer: true)), count: 2))
    }

    // Thesis §3.10 with §4.2.3: voters that learned of the transfer from their leader waive stickiness
    // for the announced target only, and only for a request flagged as a transfer.
    @Test("Thesis §3.10: stickiness is waived for the announced transfer target only", arguments: [
        (nodeID(2), true, true),   // announced target, flagged
        (nodeID(2), false, false), // announced target, not flagged: an ordinary election, refused
        (nodeID(4), true, false),  // flagged, but not the announced target
    ])
    func stickinessWaiver(candidate: NodeID, flagged: Bool, granted: Bool) {
        var voter = awakeFollower(3, of: 5)
        let log = LogPosition(index: 1, term: 1)
        _ = voter.receive(.heartbeat(Heartbeat(term: 1, sequence: 1, leaderLog: log, transferTarget: 2)), from: 1)
        let actions = voter.receive(.voteRequest(VoteRequest(term: 2, lastLog: log, isTransfer: flagged)), from: candidate)
        #expect(actions.sends == [Sent(message: .voteResponse(VoteResponse(term: 2, granted: granted)), to: candidate)])
        #expect(voter.status.term == (granted ? 2 : 1))
        // A newer heartbeat that no longer announces it withdraws the waiver.
        var withdrawn = awakeFollower(3, of: 5)
        _ = withdrawn.receive(.heartbeat(Heartbeat(term: 1, sequence: 1, leaderLog: log, transferTarget: 2)), from: 1)
        _ = withdrawn.receive(.heartbeat(Heartbeat(term: 1, sequence: 2, leaderLog: log)), from: 1)
        let refused = withdrawn.receive(.voteRequest(VoteRequest(term: 2, lastLog: log, isTransfer: flagged)), from: candidate)
        #expect(refused.sends == [Sent(message: .voteResponse(VoteResponse(term: 2, granted: false)), to: candidate)])
    }

    @Test("Thesis §3.10: the transferring leader itself grants the target's vote and steps down with reason transfer")
    func leaderGrantsTarget() throws {
        var leader = try handElectedLeader(1, of: 3)
        let log = LogPosition(index: 1, term: 1)
        _ = try leader.transferLeadership(to: 2)
        // Not the target: refused by stickiness.
        let other = leader.receive(.voteRequest(VoteRequest(term: 2, lastLog: log, isTransfer: true)), from: 3)
        #expect(other == [.send(.voteResponse(VoteResponse(term: 2, granted: false)), to: 3)])
        #expect(leader.status.role == .leader)
        let actions = leader.receive(.voteRequest(VoteRequest(term: 2, lastLog: log, isTransfer: true)), from: 2)
        #expect(actions.stepDowns == [.transfer])
        #expect(actions.transferOutcomes == [], "the transfer completes when the target is known to lead")
        #expect(actions.sends == [Sent(message: .voteResponse(VoteResponse(term: 2, granted: true)), to: 2)])
        #expect(leader.status.role == .follower)
        #expect(leader.status.votedFor == 2)
        let heartbeat = leader.receive(.heartbeat(Heartbeat(term: 2, sequence: 1, leaderLog: LogPosition(index: 2, term: 2))), from: 2)
        #expect(heartbeat.contains(.transferFinished(to: 2, .completed)))
        #expect(leader.status.transferTarget == nil)
    }

    // Thesis §3.10 end to end: "transfer … within about one round trip" — here counted in hops.
    @Test("Thesis §3.10: a transfer completes within a few message hops", arguments: [3, 4, 5])
    func transferCompletes(size: Int) throws {
        var network = try RaftCluster.elected(size: size)
        network.run(ticks: 2)
        let target = nodeID(size)
        let mark = network.mark
        try network.transfer(from: 1, to: target)
        #expect(!network.status(1).holdsLease)

        // Hop 1: heartbeat + TimeoutNow; 2: vote requests; 3: votes (target leads); 4: its heartbeats.
        var hops = 0
        while !network.actions(of: 1, since: mark).contains(.transferFinished(to: target, .completed)) && hops < 10 {
            network.deliverRound()
            hops += 1
        }
        #expect(hops <= 4, "took \(hops) hops")
        network.deliverAll()
        #expect(network.leaders == [target])
        let targetStatus = network.status(target)
        #expect(targetStatus.term == 2)
        #expect(network.ids.allSatisfy { network.status($0).leader == target })
        let old = network.actions(of: 1, since: mark)
        #expect(old.stepDowns == [.transfer])
        #expect(old.transferOutcomes == [.completed])
        #expect(old.contains(.transferFinished(to: target, .completed)))
        #expect(network.status(1).transferTarget == nil)
        let campaign = network.actions(of: target, since: mark).campaignEvents
        #expect(campaign == [.campaignStarted(.vote, term: 2), .campaignFinished(.won, ticks: 0)])

        // The new leader's lease waits out the old leader's (LeaseSuccessionTests), then begins.
        network.run(ticks: 1)
        #expect(!network.status(target).holdsLease)
        #expect(network.runUntil(maxTicks: Int(T) + 2) { $0.status(target).holdsLease } != nil)
        network.run(ticks: 3 * Int(T))
        #expect(network.leaders == [target])
        #expect(network.terms.allSatisfy { $0 == 2 })
        #expect(network.violations == [])
    }

    @Test("Thesis §3.10: a transfer to an unreachable target times out after T ticks; leadership and lease resume")
    func transferTimesOut() throws {
        var network = try RaftCluster.elected(size: 3)
        network.run(ticks: 2)
        network.isolate(2)
        let startedAt = network.status(1).now
        let mark = network.mark
        try network.transfer(from: 1, to: 2)
        var finishedAt: UInt64?
        for _ in 0..<(2 * Int(T)) {
            network.step()
            let status = network.status(1)
            if network.actions(of: 1, since: mark).transferOutcomes.isEmpty {
                #expect(status.transferTarget == 2)
                #expect(!status.holdsLease, "a lease while transferring")
            } else if finishedAt == nil {
                finishedAt = status.now
            }
        }
        let finished = try #require(finishedAt)
        #expect(finished - startedAt == T)
        let actions = network.actions(of: 1, since: mark)
        #expect(actions.transferOutcomes == [.timedOut])
        #expect(actions.contains(.transferFinished(to: 2, .timedOut)))
        #expect(actions.stepDowns == [])
        #expect(network.status(1).role == .leader)
        #expect(network.status(1).term == 1)
        #expect(network.status(1).transferTarget == nil)
        #expect(network.status(1).holdsLease, "the lease resumes with the next acknowledged heartbeat")
        // The heartbeat after the timeout withdraws the announcement.
        let lastHeartbeat = actions.compactMap { if case .send(.heartbeat(let h), to: 3) = $0 { h } else { nil } }.last
        #expect(lastHeartbeat?.transferTarget == nil)
        // And a new transfer may start.
        network.heal()
        network.run(ticks: 2)
        try network.transfer(from: 1, to: 2)
        network.deliverAll()
        #expect(network.leaders == [2])
        #expect(network.violations == [])
    }

    @Test("Thesis §3.10: acknowledgements of heartbeats that announced an aborted transfer do not restore the lease")
    func abortedTransferAcksDoNotCount() throws {
        var leader = try handElectedLeader(1, of: 3)
        let log = LogPosition(index: 1, term: 1)
        _ = try leader.transferLeadership(to: 2)  // heartbeat 2 announces the transfer
        _ = leader.tick(times: T)                 // heartbeats 3…; the transfer times out on the T-th tick
        #expect(leader.status.transferTarget == nil)
        #expect(leader.status.role == .leader, "CheckQuorum allows T ticks of silence")
        _ = leader.receive(.heartbeatResponse(HeartbeatResponse(term: 1, sequence: 5, lastLog: log)), from: 3)
        #expect(!leader.status.holdsLease, "that heartbeat told voters to waive stickiness for node 2")
        // The heartbeat sent when the transfer was given up (sequence T + 3) counts again.
        _ = leader.receive(.heartbeatResponse(HeartbeatResponse(term: 1, sequence: T + 3, lastLog: log)), from: 3)
        #expect(leader.status.holdsLease)
    }

    @Test("A TimeoutNow that arrives after the heartbeat withdrawing its transfer starts no campaign (seed 2011711)")
    func staleTimeoutNowIsIgnored() throws {
        let log = LogPosition(index: 1, term: 1)
        var target = awakeFollower(3, of: 3)
        _ = target.receive(.heartbeat(Heartbeat(term: 1, sequence: 1, leaderLog: log, transferTarget: 3)), from: 1)
        // The transfer timed out; the withdrawing heartbeat overtook the delayed TimeoutNow.
        _ = target.receive(.heartbeat(Heartbeat(term: 1, sequence: 2, leaderLog: log)), from: 1)
        let actions = target.receive(.timeoutNow(TimeoutNow(term: 1)), from: 1)
        #expect(actions.filter { if case .send = $0 { true } else { false } }.isEmpty, "\(actions)")
        #expect(target.status.role == .follower)
        #expect(target.status.term == 1)
        // A reordered, older announcement does not revive it either.
        _ = target.receive(.heartbeat(Heartbeat(term: 1, sequence: 1, leaderLog: log, transferTarget: 3)), from: 1)
        #expect(target.status.role == .follower)
        // A new transfer's announcement lets it campaign.
        _ = target.receive(.heartbeat(Heartbeat(term: 1, sequence: 3, leaderLog: log, transferTarget: 3)), from: 1)
        #expect(target.status.role == .candidate)
        #expect(target.status.term == 2)
    }

    @Test("A TimeoutNow that overtook its announcing heartbeat is obeyed once the announcement arrives")
    func timeoutNowBeforeItsAnnouncement() throws {
        let log = LogPosition(index: 1, term: 1)
        var target = awakeFollower(3, of: 3)
        _ = target.receive(.heartbeat(Heartbeat(term: 1, sequence: 1, leaderLog: log)), from: 1)
        #expect(target.receive(.timeoutNow(TimeoutNow(term: 1)), from: 1).isEmpty)
        #expect(target.status.role == .follower)
        let announced = target.receive(.heartbeat(Heartbeat(term: 1, sequence: 2, leaderLog: log, transferTarget: 3)), from: 1)
        #expect(target.status.role == .candidate)
        #expect(announced.messages(of: .voteRequest).count == 2)
    }

    @Test("Thesis §3.10: a transfer is abandoned when the leader loses leadership for another reason", arguments: [
        StepDownReason.higherTerm, .lostQuorum, .shutdown,
    ])
    func transferAbandoned(reason: StepDownReason) throws {
        var leader = try handElectedLeader(1, of: 3)
        _ = leader.tick()  // so that CheckQuorum (T + 1 after the election) fires before the transfer's T
        _ = try leader.transferLeadership(to: 2)
        var actions: [Action] = []
        switch reason {
        case .higherTerm:
            actions = leader.receive(.heartbeat(Heartbeat(term: 3, sequence: 1, leaderLog: LogPosition(index: 2, term: 3))), from: 3)
        case .lostQuorum:
            while leader.status.role == .leader && leader.status.now < 100 { actions += leader.tick() }
        default:
            actions = leader.shutdown()
        }
        #expect(actions.stepDowns == [reason])
        #expect(actions.contains(.transferFinished(to: 2, .abandoned)))
        #expect(actions.transferOutcomes.count == 1)
        #expect(leader.status.transferTarget == nil)
        #expect(leader.status.role == .follower)
    }

    @Test("preferredTransferTarget prefers the most up-to-date, then most recently heard follower")
    func bestTarget() throws {
        var leader = try handElectedLeader(1, of: 4)
        let log = LogPosition(index: 1, term: 1)
        _ = leader.tick()
        _ = leader.receive(.heartbeatResponse(HeartbeatResponse(term: 1, sequence: 1, lastLog: .empty)), from: 2)
        _ = leader.receive(.heartbeatResponse(HeartbeatResponse(term: 1, sequence: 1, lastLog: log)), from: 3)
        _ = leader.tick()
        _ = leader.receive(.heartbeatResponse(HeartbeatResponse(term: 1, sequence: 2, lastLog: log)), from: 4)
        #expect(leader.preferredTransferTarget == 4)
        #expect(awakeFollower(2, of: 3).preferredTransferTarget == nil)
    }
}
