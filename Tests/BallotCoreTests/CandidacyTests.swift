import BallotCore
import BallotTestKit
import Testing

/// Issue 15 in the core: eligibility, resignation with a hold-off, and preferred leaders.
@Suite("Candidacy, resignation and preferred leaders (issue 15)")
struct CandidacyTests {
    static let window: UInt64 = 40
    static func config(preemptAfter: UInt64 = window) -> RaftConfiguration {
        var config = raftConfig()
        config.preemptAfterTicks = preemptAfter
        return config
    }

    static func transfersStarted(_ actions: [Action]) -> [(NodeID, TransferReason)] {
        actions.compactMap { if case .transferStarted(let to, let reason) = $0 { (to, reason) } else { nil } }
    }

    static func transfersStarted(in net: RaftCluster, by id: NodeID, since mark: RaftCluster.Mark = .start) -> [(NodeID, TransferReason)] {
        transfersStarted(net.actions(of: id, since: mark))
    }

    // MARK: Eligibility

    @Test("an ineligible follower never campaigns, yet still votes")
    func ineligibleNeverCampaigns() {
        var node = RaftNode(id: 2, membership: cluster(3), configuration: raftConfig(),
                            candidacy: Candidacy(eligible: false), random: SplitMix64(seed: 7))
        let actions = node.tick(times: 20 * T)
        #expect(actions.campaignEvents.isEmpty)
        #expect(node.status.role == .follower)
        #expect(node.status.candidacy == Candidacy(eligible: false))
        // It still votes: a quorum needs it.
        let granted = node.receive(.voteRequest(VoteRequest(term: 1, lastLog: .empty)), from: 1)
        #expect(granted.sends == [Sent(message: .voteResponse(VoteResponse(term: 1, granted: true)), to: 1)])
    }

    @Test("an ineligible follower declines TimeoutNow, and reports itself ineligible to its leader")
    func ineligibleDeclinesTransfer() throws {
        var follower = awakeFollower(2, of: 3)
        _ = follower.receive(.heartbeat(Heartbeat(
            term: 1, sequence: 1, leaderLog: LogPosition(index: 1, term: 1), transferTarget: 2)), from: 1)
        _ = try follower.setEligible(false)
        #expect(follower.receive(.timeoutNow(TimeoutNow(term: 1)), from: 1).isEmpty)
        #expect(follower.status.role == .follower)
        let ack = follower.receive(.heartbeat(Heartbeat(
            term: 1, sequence: 2, leaderLog: LogPosition(index: 1, term: 1), transferTarget: 2)), from: 1)
        guard case .heartbeatResponse(let response)? = ack.sends.first?.message else {
            Issue.record("no acknowledgement: \(ack)")
            return
        }
        #expect(response.candidacy == Candidacy(eligible: false, priority: 0))
        // Eligible again: TimeoutNow is obeyed.
        _ = try follower.setEligible(true)
        _ = follower.receive(.timeoutNow(TimeoutNow(term: 1)), from: 1)
        #expect(follower.status.role == .candidate)
    }

    @Test("a campaigning node made ineligible falls back to follower in its term")
    func campaignAbandoned() throws {
        var node = makeNode(1, of: 3, seed: 3)
        _ = try node.tickToCampaign()
        #expect(node.status.role == .preCandidate)
        let actions = try node.setEligible(false)
        #expect(node.status.role == .follower)
        #expect(actions.compactMap(\.campaignOutcome) == [.lost])
        #expect(node.tick(times: 10 * T).campaignEvents.isEmpty)
    }

    @Test("the leader refuses a transfer to a member that reported itself ineligible")
    func transferToIneligibleRefused() throws {
        var net = try RaftCluster.elected(size: 3)
        try net.setEligible(2, false)
        net.run(ticks: 2)
        #expect(throws: TransferRefusal.targetIneligible(2)) { try net.transfer(from: 1, to: 2) }
        #expect(net.violations.isEmpty, "\(net.violations)")
    }

    @Test("a leader made ineligible hands over to an eligible follower, then never campaigns")
    func ineligibleLeaderHandsOver() throws {
        var net = try RaftCluster.elected(size: 3)
        net.run(ticks: 2)
        let mark = net.mark
        try net.setEligible(1, false)
        #expect(Self.transfersStarted(in: net, by: 1, since: mark).map(\.1) == [.ineligible])
        let took = net.runUntil(maxTicks: Int(2 * T)) { $0.leaders.count == 1 && $0.leaders != [1] }
        #expect(took != nil)
        net.run(ticks: Int(10 * T))
        #expect(!net.leaders.contains(1))
        #expect(!net.actions(of: 1, since: mark).contains { $0.campaignPhase != nil })
        #expect(net.violations.isEmpty, "\(net.violations)")
    }

    @Test("an ineligible leader with no eligible follower keeps leading, and hands over once one is eligible")
    func ineligibleLeaderWaitsForASuccessor() throws {
        var net = try RaftCluster.elected(size: 3)
        try net.setEligible(2, false)
        try net.setEligible(3, false)
        net.run(ticks: 2)
        try net.setEligible(1, false)
        net.run(ticks: Int(5 * T))
        #expect(net.leaders == [1], "an ineligible leader beats no leader")
        #expect(Self.transfersStarted(in: net, by: 1).isEmpty)
        try net.setEligible(3, true)
        let took = net.runUntil(maxTicks: Int(4 * T)) { $0.leaders == [3] }
        #expect(took != nil)
        #expect(Self.transfersStarted(in: net, by: 1).map(\.1) == [.ineligible])
        #expect(net.violations.isEmpty, "\(net.violations)")
    }

    // MARK: Resignation

    @Test("resign hands over to the eligible follower of highest priority, then holds off")
    func resignHandsOverAndHoldsOff() throws {
        let candidacies: [NodeID: Candidacy] = [2: Candidacy(priority: 1), 3: Candidacy(priority: 4), 4: Candidacy(priority: 9)]
        var net = try RaftCluster.elected(size: 5, config: Self.config(preemptAfter: 100_000), candidacies: candidacies)
        try net.setEligible(4, false)  // The highest priority, but ineligible.
        net.run(ticks: 2)
        let mark = net.mark
        try net.resign(1, holdOffTicks: 3 * T)
        #expect(Self.transfersStarted(in: net, by: 1, since: mark).map(\.0) == [3])
        #expect(net.status(1).leaseExpiry == nil, "no lease while handing over")
        let took = net.runUntil(maxTicks: Int(T)) { $0.leaders == [3] }
        #expect(took != nil)
        // Holding off: reported ineligible, declines a transfer back, does not campaign even when
        // cut off from the new leader for longer than its election timeout.
        #expect(net.status(1).candidacy.eligible == false)
        #expect(throws: TransferRefusal.targetIneligible(1)) { try net.transfer(from: 3, to: 1) }
        let holding = net.mark
        net.isolate(1)
        net.run(ticks: Int(2 * T))
        #expect(!net.actions(of: 1, since: holding).contains { $0.campaignPhase != nil })
        net.run(ticks: Int(3 * T))
        #expect(net.actions(of: 1, since: holding).contains { $0.campaignPhase != nil }, "the hold-off ends")
        #expect(net.violations.isEmpty, "\(net.violations)")
    }

    @Test("resign without an eligible follower steps down at once, and holds off")
    func resignWithoutSuccessor() throws {
        var net = try RaftCluster.elected(size: 3)
        try net.setEligible(2, false)
        try net.setEligible(3, false)
        net.run(ticks: 2)
        let mark = net.mark
        try net.resign(1, holdOffTicks: 2 * T)
        #expect(net.actions(of: 1, since: mark).stepDowns == [.resigned])
        #expect(net.leaders.isEmpty)
        net.run(ticks: Int(T))
        #expect(net.leaders.isEmpty && !net.actions(of: 1, since: mark).contains { $0.campaignPhase != nil })
        let back = net.runUntil(maxTicks: Int(6 * T)) { $0.leaders == [1] }
        #expect(back != nil, "after the hold-off the only eligible member leads again")
        #expect(net.violations.isEmpty, "\(net.violations)")
    }

    @Test("a resignation whose hand-over times out steps down")
    func resignTimesOut() throws {
        var net = try RaftCluster.elected(size: 3)
        net.run(ticks: 2)
        net.cutOneWay(from: 1, to: 2)  // TimeoutNow never arrives…
        net.cutOneWay(from: 1, to: 3)
        let mark = net.mark
        try net.resign(1, holdOffTicks: T)
        net.run(ticks: Int(T) + 1)
        #expect(net.actions(of: 1, since: mark).transferOutcomes == [.timedOut])
        #expect(net.actions(of: 1, since: mark).stepDowns == [.resigned])
        #expect(net.status(1).role == .follower)
        #expect(net.violations.isEmpty, "\(net.violations)")
    }

    @Test("only a leader resigns")
    func followersCannotResign() throws {
        var net = try RaftCluster.elected(size: 3)
        #expect(throws: TransferRefusal.notLeader(knownLeader: 1)) { try net.resign(2, holdOffTicks: T) }
    }

    // MARK: Preferred leaders

    @Test("a member of higher priority takes over after a whole healthy window, not before")
    func preemptionAfterTheWindow() throws {
        let candidacies: [NodeID: Candidacy] = [3: Candidacy(priority: 5)]
        var net = try RaftCluster.elected(size: 3, config: Self.config(), candidacies: candidacies)
        let start = net.status(1).now
        let first = net.runUntil(maxTicks: Int(3 * Self.window)) { !Self.transfersStarted(in: $0, by: 1).isEmpty }
        let started = try #require(first, "no preemption within three windows")
        #expect(Self.transfersStarted(in: net, by: 1).map(\.1) == [.preemption])
        #expect(Self.transfersStarted(in: net, by: 1).map(\.0) == [3])
        #expect(net.status(1).now - start >= Self.window, "not before a whole window (took \(started) ticks)")
        let took = net.runUntil(maxTicks: Int(T)) { $0.leaders == [3] }
        #expect(took != nil)
        // Now the preferred member leads: nothing more happens.
        let settled = net.mark
        net.run(ticks: Int(4 * Self.window))
        #expect(net.leaders == [3])
        #expect(net.history(since: settled).allSatisfy { if case .transferStarted = $0.action { false } else { true } })
        #expect(net.violations.isEmpty, "\(net.violations)")
    }

    @Test("equal or lower priorities never preempt")
    func noPreemptionWithoutHigherPriority() throws {
        let candidacies: [NodeID: Candidacy] = [1: Candidacy(priority: 5), 2: Candidacy(priority: 5), 3: Candidacy(priority: 1)]
        var net = try RaftCluster.elected(size: 3, config: Self.config(), candidacies: candidacies)
        net.run(ticks: Int(5 * Self.window))
        #expect(net.leaders == [1])
        #expect(Self.transfersStarted(in: net, by: 1).isEmpty)
    }

    @Test("no preemption while any member is unreachable")
    func noPreemptionWhileAMemberIsUnreachable() throws {
        let candidacies: [NodeID: Candidacy] = [3: Candidacy(priority: 5)]
        var net = try RaftCluster.elected(size: 3, config: Self.config(), candidacies: candidacies)
        net.isolate(2)
        net.run(ticks: Int(5 * Self.window))
        #expect(net.leaders == [1])
        #expect(Self.transfersStarted(in: net, by: 1).isEmpty)
        // Once everyone answers again, the window starts over.
        net.heal()
        let healed = net.status(1).now
        let first = net.runUntil(maxTicks: Int(3 * Self.window)) { !Self.transfersStarted(in: $0, by: 1).isEmpty }
        #expect(first != nil)
        #expect(net.status(1).now - healed >= Self.window)
        #expect(net.violations.isEmpty, "\(net.violations)")
    }

    /// A leader fed acknowledgements by hand every tick — from 2 at priority 0 and from 3 at
    /// priority 5 — with nothing it sends delivered: its preemptions fail (TimeoutNow is lost).
    static func leaderWithAnsweringPeers(ticks: UInt64) throws -> (RaftNode, [UInt64]) {
        var leader = try handElectedLeader(1, of: 3, config: config())
        var started: [UInt64] = []
        for _ in 0..<ticks {
            let actions = leader.tick()
            if !transfersStarted(actions).isEmpty { started.append(leader.status.now) }
            for sent in actions.messages(of: .heartbeat) {
                guard case .heartbeat(let heartbeat) = sent.message else { continue }
                let priority: UInt16 = sent.to == 3 ? 5 : 0
                _ = leader.receive(.heartbeatResponse(HeartbeatResponse(
                    term: heartbeat.term, sequence: heartbeat.sequence, lastLog: heartbeat.leaderLog,
                    candidacy: Candidacy(priority: priority))), from: sent.to)
            }
        }
        return (leader, started)
    }

    @Test("at most one preemption per window, also when each one fails")
    func onePreemptionPerWindow() throws {
        let (leader, started) = try Self.leaderWithAnsweringPeers(ticks: 6 * Self.window)
        #expect(leader.status.role == .leader, "a failed preemption leaves the leader leading")
        #expect(started.count >= 3, "it keeps trying, once per window: \(started)")
        #expect(started.first ?? 0 >= Self.window)
        for (a, b) in zip(started, started.dropFirst()) {
            #expect(b - a >= Self.window, "preemptions at ticks \(started)")
        }
    }

    @Test("a member whose answers stop and resume starts its window over")
    func streakResetsOnAGap() throws {
        let candidacies: [NodeID: Candidacy] = [3: Candidacy(priority: 5)]
        var net = try RaftCluster.elected(size: 3, config: Self.config(), candidacies: candidacies)
        net.run(ticks: Int(Self.window / 2))
        net.cutOneWay(from: 3, to: 1)  // Node 3's acknowledgements stop for longer than the health gap.
        net.run(ticks: Int(raftConfig().healthGapTicks) + 2)
        net.heal()
        let resumed = net.status(1).now
        #expect(Self.transfersStarted(in: net, by: 1).isEmpty)
        let first = net.runUntil(maxTicks: Int(3 * Self.window)) { !Self.transfersStarted(in: $0, by: 1).isEmpty }
        #expect(first != nil)
        #expect(net.status(1).now - resumed >= Self.window)
    }

    @Test("the preemption window is at least an election timeout")
    func windowValidation() {
        var config = raftConfig()
        config.preemptAfterTicks = T - 1
        #expect(throws: RaftConfigurationError.preemptionWindowBelowElectionTimeout(window: T - 1, electionTimeout: T)) {
            try config.validate()
        }
        #expect(RaftConfiguration(electionTimeoutTicks: 100).preemptAfterTicks == 3_000)
    }
}
