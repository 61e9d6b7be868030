import BallotSimulation
import BallotClient
import BallotHarness
import Testing

/// The fault run's guards on hand-made timelines: the start-up election and probes outside a fault
/// count for nothing, and each guard is shown to catch the run it exists for.
@Suite struct FaultTallyTests {
    func ms(_ value: Double) -> UInt64 { 1_000_000_000_000 + UInt64(value * 1_000_000) }

    func elected(_ node: UInt64, leader: UInt64, term: UInt64, at: Double) -> TimelineEvent {
        .leadership(LeadershipEventLine(parsing:
            "event=elected node=\(node) leader=\(leader) term=\(term) self=\(node == leader) leaderless_ms=0.0 mono_ns=\(ms(at))")!)
    }

    func probe(_ node: UInt64, sent: Double, received: Double) -> TimelineEvent {
        .probe(node: node, source: "leader", isLeader: false, term: 1, sent: ms(sent), received: ms(received))
    }

    /// Start-up elects node 1 in term 1 and is probed; fault #0 kills the leader (node 2 wins term 2,
    /// the restarted node 1 learns it); fault #1 kills a follower (node 3 restarts and learns term 2).
    var twoFaults: [TimelineEvent] {
        [
            elected(1, leader: 1, term: 1, at: 100), elected(2, leader: 1, term: 1, at: 101),
            probe(1, sent: 200, received: 201), probe(2, sent: 200, received: 202),
            .faultBegan(number: 0, kind: .crash, detail: "", at: ms(300)),
            probe(2, sent: 400, received: 402),
            elected(2, leader: 2, term: 2, at: 450),
            .faultHealed(number: 0, at: ms(900)),
            elected(1, leader: 2, term: 2, at: 950), probe(1, sent: 960, received: 962),
            .faultBegan(number: 1, kind: .crash, detail: "", at: ms(1_000)),
            probe(1, sent: 1_100, received: 1_101),
            .faultHealed(number: 1, at: ms(1_500)),
            elected(3, leader: 2, term: 2, at: 1_550),
        ]
    }

    @Test func onlyWhatFollowsAFaultCounts() {
        let tally = FaultTally.tally(twoFaults, forcingElection: [0])
        #expect(tally.faults == 2)
        #expect(tally.electionsObserved == 2)
        #expect(tally.electionsAfterFaults == 1, "term 2 only: term 1 was the start-up")
        #expect(tally.probes == 5)
        #expect(tally.probesDuringFaults == 2, "the probes at 400 and 1100 ms")
        #expect(tally.electionForcingFaults == 1)
        #expect(tally.unobservedFaults.isEmpty && tally.faultsWithoutElection.isEmpty && tally.unhealedFaults.isEmpty)
    }

    @Test func aRunWhoseOnlyElectionWasTheStartUpShowsNone() {
        let startUpOnly = twoFaults.filter {
            if case .leadership(let line) = $0 { return line.term == 1 }
            return true
        }
        let tally = FaultTally.tally(startUpOnly, forcingElection: [0])
        #expect(tally.electionsAfterFaults == 0)
        #expect(tally.faultsWithoutElection == [0])
    }

    @Test func aRestartedNodeLearningTheOldTermIsNoElection() {
        // Fault #1 said to stop the leader: only node 3 learning term 2 follows, which is no election.
        let tally = FaultTally.tally(twoFaults, forcingElection: [0, 1])
        #expect(tally.faultsWithoutElection == [1])
    }

    @Test func probesOutsideEveryFaultWindowCountForNothing() {
        let outside = twoFaults.filter {
            if case .probe(_, _, _, _, let sent, _) = $0 { return sent < ms(300) || (sent > ms(900) && sent < ms(1_000)) }
            return true
        }
        let tally = FaultTally.tally(outside)
        #expect(tally.probes == 3)
        #expect(tally.probesDuringFaults == 0)
        #expect(tally.unobservedFaults == [0, 1])
    }

    @Test func aProbeAnsweredAfterTheHealIsNotDuringTheFault() {
        let late = twoFaults + [probe(1, sent: 1_400, received: 1_600)]
        #expect(FaultTally.tally(late).probesDuringFaults == 2)
    }

    @Test func aFaultNeverHealedIsNamed() {
        let unhealed = twoFaults.filter { if case .faultHealed(1, _) = $0 { return false } else { return true } }
        #expect(FaultTally.tally(unhealed).unhealedFaults == [1])
    }

    @Test func theSuiteReportFailsOnEachGuard() {
        var report = FaultSuite.Report()
        report.requestedFaults = 2
        report.faultsByKind = [.crash: 2]
        report.tallyByClusterSize = [3: FaultTally.tally(twoFaults, forcingElection: [0])]
        #expect(report.failures.isEmpty, "\(report.failures)")
        var unrecovered = report
        unrecovered.unrecovered = 1
        #expect(unrecovered.failures == ["1 heals after which no stable leader came within the recovery bound"])
        var short = report
        short.requestedFaults = 3
        #expect(short.failures == ["only 2 of the 3 faults asked for were injected"])
        var nothing = FaultSuite.Report()
        nothing.requestedFaults = 2
        #expect(nothing.failures == ["no fault was injected"])
        var skipped = report
        skipped.namespaceSkipReason = "network namespaces need root"
        #expect(skipped.failures.count == 1)
        skipped.namespaceSkipRequested = true
        #expect(skipped.failures.isEmpty)
        var blind = report
        blind.tallyByClusterSize = [3: FaultTally.tally(twoFaults.filter { if case .probe = $0 { false } else { true } })]
        #expect(blind.failures.contains("no probe was answered while a fault held"))
        #expect(blind.failures.contains("3 nodes: no probe was answered while faults #0, #1 held"))
    }
}
