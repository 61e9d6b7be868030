import BallotCore
import Testing

@testable import BallotSimulation

/// Issue 15 in the simulator, which drives the real `NodeDriver`: priorities cannot make leadership
/// flap under any fault, and resignations and eligibility changes never break Raft's invariants.
@Suite struct PreferredLeaderTests {
    /// Every fault kind on its own, then all of them together (resignations and eligibility
    /// changes included), each over 40 schedules with random priorities.
    static let faultSets: [(String, Set<FaultKind>)] =
        FaultKind.allCases.map { ($0.rawValue, [$0]) } + [("all", Set(FaultKind.allCases))]

    @Test(arguments: faultSets.map(\.0))
    func prioritiesNeverFlapUnderAnyFault(faults name: String) async {
        let faults = Self.faultSets.first { $0.0 == name }!.1
        let summary = await SeedSweep.run(first: 70_000, count: 40, parallelism: 1) { seed in
            var options = SimulationOptions(seed: seed, faults: faults)
            options.priorities = true
            return options
        }
        for failure in summary.failures {
            Issue.record("seed \(failure.seed): \(failure.violation)\n  replay: \(failure.replayCommand)")
        }
        // The checked bound (preemption-cadence fails a run otherwise), and its measure.
        #expect(summary.maxPreemptionsPerWindow <= 1)
        #expect(summary.preemptions > 0, "priorities were exercised")
        // Once the faults heal, the highest priority leads in every schedule.
        #expect(summary.endedWithPreferredLeader == summary.schedules,
                "\(summary.endedWithPreferredLeader) of \(summary.schedules) ended with a preferred leader")
    }

    @Test(arguments: 0..<4)
    func resignationsAndEligibilityKeepEveryInvariant(chunk: Int) async {
        let summary = await SeedSweep.run(first: UInt64(80_000 + chunk * 100), count: 100, parallelism: 1) { seed in
            var options = SimulationOptions(seed: seed, faults: Set(FaultKind.allCases))
            options.priorities = seed % 2 == 0
            return options
        }
        #expect(summary.schedules == 100)
        #expect((summary.faults[.resign] ?? 0) > 0 && (summary.faults[.candidacy] ?? 0) > 0)
        for failure in summary.failures {
            Issue.record("seed \(failure.seed): \(failure.violation)\n  replay: \(failure.replayCommand)")
        }
    }

    @Test func defaultSchedulesAreUnchangedByTheOptInFaults() {
        #expect(SimulationOptions(seed: 1).faults == FaultKind.standard)
        #expect(!FaultKind.standard.contains(.resign) && !FaultKind.standard.contains(.candidacy))
        var options = SimulationOptions(seed: 3, nodes: 3, faults: Set(FaultKind.allCases))
        options.priorities = true
        #expect(options.replayCommand
            == "swift run ballot simulate --seed 3 --algorithm raft --nodes 3 --faults all --priorities")
    }

    // MARK: The checks can fail

    func simulator() -> ClusterSimulator {
        var options = SimulationOptions(seed: 1, nodes: 3, faults: [])
        options.priorities = true
        return ClusterSimulator(options: options)
    }

    /// Members ordered by priority, lowest first (the seed decides them).
    func byPriority(_ simulator: ClusterSimulator) -> [NodeID] {
        simulator.membership.members.sorted { simulator.options.priority(of: $0) < simulator.options.priority(of: $1) }
    }

    func hearEveryone(_ simulator: ClusterSimulator, at leader: NodeID) {
        for peer in simulator.membership.peers(of: leader) { simulator.lastDelivery[Link(from: peer, to: leader)] = simulator.now }
    }

    @Test func twoPreemptionsWithinAWindowAreCaught() throws {
        let sim = simulator()
        let ranked = byPriority(sim)
        try #require(sim.options.priority(of: ranked[0]) < sim.options.priority(of: ranked[2]))
        sim.time.now = .milliseconds(1_000)
        hearEveryone(sim, at: ranked[0])
        sim.notePreemption(by: ClusterSimulator.index(of: ranked[0]), to: ranked[2])
        #expect(sim.checker.violations.isEmpty)
        sim.time.now = .milliseconds(1_000 + 300)  // Half a window (600 ms) later.
        hearEveryone(sim, at: ranked[0])
        sim.notePreemption(by: ClusterSimulator.index(of: ranked[0]), to: ranked[2])
        #expect(sim.checker.violations.map(\.property) == [.preemptionCadence])
    }

    @Test func aPreemptionDownwardOrWhileAMemberIsSilentIsCaught() throws {
        let sim = simulator()
        let ranked = byPriority(sim)
        try #require(sim.options.priority(of: ranked[0]) < sim.options.priority(of: ranked[2]))
        sim.time.now = .milliseconds(1_000)
        hearEveryone(sim, at: ranked[2])
        sim.notePreemption(by: ClusterSimulator.index(of: ranked[2]), to: ranked[0])
        #expect(sim.checker.violations.map(\.property) == [.preemptionUpward])
        sim.time.now = .milliseconds(5_000)  // Nothing has arrived for four seconds.
        sim.notePreemption(by: ClusterSimulator.index(of: ranked[0]), to: ranked[2])
        #expect(sim.checker.violations.map(\.property).contains(.preemptionWhileUnreachable))
    }

    @Test func leaderChangesPerWindowAreCountedOverSlidingWindows() {
        var result = SimulationResult(options: SimulationOptions(seed: 1), nodeCount: 3)
        result.leaderClaims = [0, 100, 250, 260, 900].map {
            LeaderClaim(leader: 1, term: Term(UInt64($0)), at: .milliseconds(Double($0)))
        }
        #expect(result.maxLeaderChanges(within: 200_000) == 3)  // 100, 250, 260
        #expect(result.maxLeaderChanges(within: 1_000_000) == 5)
        #expect(result.maxLeaderChanges(within: 1) == 1)
    }
}
