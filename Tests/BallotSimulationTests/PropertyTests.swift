import BallotCore
import BallotSimulation
import Testing

/// Safety and liveness over many random fault schedules (the ARCHITECTURE's "quick count in CI";
/// `scripts/simulate-long.sh` runs the big count).
@Suite struct PropertyTests {
    /// 1,000 schedules in 10 chunks, so Swift Testing can spread them over the cores.
    @Test(arguments: 0..<10)
    func randomFaultSchedulesKeepEveryInvariant(chunk: Int) async {
        let summary = await SeedSweep.run(first: UInt64(chunk * 100 + 1), count: 100, parallelism: 1) { seed in
            SimulationOptions(seed: seed)
        }
        #expect(summary.schedules == 100)
        #expect(summary.elections > 0)
        #expect(summary.totalFaults > 0)
        #expect(summary.vacuity(requestedSchedules: 100, faultsRequested: true).isEmpty)
        for failure in summary.failures {
            Issue.record("seed \(failure.seed): \(failure.violation)\n  replay: \(failure.replayCommand)")
        }
    }

    /// A sweep that ran nothing, elected nobody or injected no fault is called out, not passed:
    /// `ballot simulate --seeds` and `scripts/simulate-long.sh` exit non-zero on it.
    @Test func anEmptySweepProvesNothing() async {
        let none = await SeedSweep.run(first: 1, count: 0) { SimulationOptions(seed: $0) }
        #expect(none.vacuity(requestedSchedules: 5, faultsRequested: true) == [
            "only 0 of 5 schedules ran", "no schedule elected a leader", "faults were asked for but none was injected",
        ])
        let quiet = await SeedSweep.run(first: 1, count: 3, parallelism: 1) { SimulationOptions(seed: $0, nodes: 3, faults: []) }
        #expect(quiet.vacuity(requestedSchedules: 3, faultsRequested: false).isEmpty)
        #expect(quiet.vacuity(requestedSchedules: 3, faultsRequested: true) == ["faults were asked for but none was injected"])
    }

    /// Raft's invariants hold for every cluster size from 1 to 9, odd and even.
    @Test(arguments: 1...9)
    func everyClusterSizeStaysSafe(nodes: Int) async {
        let summary = await SeedSweep.run(first: 50_000, count: 12, parallelism: 1) { seed in
            SimulationOptions(seed: seed, nodes: nodes)
        }
        #expect(summary.failures.isEmpty, "\(summary.failures.map { "\($0.violation) — \($0.replayCommand)" })")
        #expect(summary.stabilisationMicroseconds.count == 12)
    }

    /// Histories that once broke an invariant, kept so the fix stays fixed: 748 (pre-vote refusals
    /// raised the candidate's term, then no leader after healing), 2003794 (a node reached a new
    /// term through a refusal and voted inside the old leader's lease) and 1009243 (a follower's
    /// withheld credit came due while it was a pre-candidate; following again, it credited on a
    /// tick its timer promise had called quiet).
    @Test(arguments: [(UInt64(748), Int?.none), (2_003_794, Int?(3)), (1_009_243, Int?.none)] as [(UInt64, Int?)])
    func regressionSeedsStayFixed(seed: UInt64, nodes: Int?) {
        let result = ClusterSimulator.run(SimulationOptions(seed: seed, nodes: nodes))
        #expect(result.violations.isEmpty, "\(result.violations) — \(result.options.replayCommand)")
    }

    @Test func sameSeedSameHistory() {
        var options = SimulationOptions(seed: 4242, nodes: 5)
        options.trace = true
        let first = ClusterSimulator.run(options)
        let second = ClusterSimulator.run(options)
        #expect(first.trace == second.trace)
        #expect(first.trace.count > 100)
        options.seed = 4243
        #expect(ClusterSimulator.run(options).trace != first.trace)
    }

    @Test func replayCommandNamesTheAlgorithmAndEveryNonDefaultOption() {
        var options = SimulationOptions(seed: 7, nodes: 3, faults: [.crash, .partition])
        options.preVote = false
        #expect(options.replayCommand
            == "swift run ballot simulate --seed 7 --algorithm raft --nodes 3 --faults crash,partition --no-pre-vote")
        #expect(SimulationOptions(seed: 9).replayCommand == "swift run ballot simulate --seed 9 --algorithm raft")
        #expect(SimulationOptions(seed: 9, algorithm: .bully).replayCommand
            == "swift run ballot simulate --seed 9 --algorithm bully")
    }
}
