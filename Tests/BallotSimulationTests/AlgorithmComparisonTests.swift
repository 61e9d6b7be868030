import BallotCore
import BallotSimulation
import Testing

/// Bully and Ring in the simulator: their split brain is measured, not failed on, while Raft's
/// invariants keep failing any run that breaks them, in the very same scripted scenarios.
@Suite struct AlgorithmComparisonTests {
    /// T in virtual milliseconds with the default options (15 ticks × 10 ms).
    let electionTimeout = 150.0

    /// A 5-node cluster of `algorithm` with a settled leader, then its leader and one other node
    /// cut off from the other three for 10 T, then healed.
    func partitionHistory(_ algorithm: ElectionAlgorithmKind) throws -> (during: SimulationCounters, after: ScriptedCluster) {
        var cluster = ScriptedCluster(nodes: 5, seed: 11) { $0.algorithm = algorithm }
        let elected = cluster.runUntilStableLeader(among: cluster.members, limit: 20 * electionTimeout)
        let leader = try #require(elected).leader
        cluster.run(milliseconds: 2 * electionTimeout)
        let minority = [leader, cluster.members.first { $0 != leader }!]
        let majority = cluster.members.filter { !minority.contains($0) }
        let before = cluster.counters
        let cut = cluster.partition(minority, from: majority)
        let majorityLeader = cluster.runUntilStableLeader(among: majority, limit: 10 * electionTimeout)
        #expect(majorityLeader != nil, "\(algorithm): the majority side elects a leader")
        cluster.run(milliseconds: max(0, 10 * electionTimeout - Double(cluster.counters.since(before).time.microseconds) / 1000))
        let during = cluster.counters.since(before)
        cluster.heal(cut)
        let healed = cluster.runUntilStableLeader(among: cluster.members, limit: 20 * electionTimeout)
        #expect(healed != nil, "\(algorithm): one leader after healing")
        return (during, cluster)
    }

    @Test(arguments: [ElectionAlgorithmKind.bully, .ring])
    func splitBrainIsMeasuredForBullyAndRingUnderPartition(algorithm: ElectionAlgorithmKind) throws {
        let (during, cluster) = try partitionHistory(algorithm)
        // The minority keeps its coordinator while the majority elects one: two "I lead" answers.
        #expect(during.splitBrainMicroseconds > 0)
        #expect(during.splitBrainMicroseconds > UInt64(5 * electionTimeout * 1000), "most of the 10 T partition")
        #expect(cluster.violations.isEmpty, "measured, not failed: \(cluster.violations)")
    }

    @Test func raftKeepsItsInvariantsInTheSamePartition() throws {
        let (during, cluster) = try partitionHistory(.raft)
        #expect(during.splitBrainMicroseconds == 0)
        #expect(cluster.violations.isEmpty)
        #expect(cluster.measuredBreaches.isEmpty)
    }

    @Test func raftStillFailsOnTheInvariantsBullyAndRingOnlyMeasure() {
        #expect(SimulationOptions(seed: 1, algorithm: .raft).measuredProperties.isEmpty)
        for algorithm in [ElectionAlgorithmKind.bully, .ring] {
            #expect(SimulationOptions(seed: 1, algorithm: algorithm).measuredProperties
                == [.electionSafety, .leaseExclusivity, .leaseSuccession])
        }
    }

    /// Random fault schedules: split brain happens and is counted, while term monotonicity and
    /// liveness after healing still hold (they fail the run, as for Raft).
    @Test(arguments: [ElectionAlgorithmKind.bully, .ring])
    func randomSchedulesKeepTheInvariantsThatApply(algorithm: ElectionAlgorithmKind) async {
        let summary = await SeedSweep.run(first: 1, count: 60, parallelism: 1) { seed in
            SimulationOptions(seed: seed, algorithm: algorithm)
        }
        #expect(summary.schedules == 60)
        #expect(summary.schedulesWithSplitBrain > 0)
        #expect(summary.splitBrainMicroseconds > 0)
        #expect(summary.stabilisationMicroseconds.count == 60, "a leader known to all after every heal")
        for failure in summary.failures {
            Issue.record("seed \(failure.seed): \(failure.violation)\n  replay: \(failure.replayCommand)")
        }
    }

    @Test func messagesAndBytesAreCountedAsFramed() throws {
        var cluster = ScriptedCluster(nodes: 3, seed: 5) { $0.algorithm = .bully }
        let elected = cluster.runUntilStableLeader(among: cluster.members, limit: 3_000)
        try #require(elected != nil)
        let counters = cluster.counters
        #expect(counters.messages > 0 && counters.electionMessages > 0)
        // Every Bully frame is 6 header bytes and an 8-byte epoch.
        #expect(counters.bytes == 14 * counters.messages)
        #expect(counters.electionBytes == 14 * counters.electionMessages)
    }

    /// The comparison's T is the user's (`--election-timeout-ticks`): one above the simulator's
    /// preemption window (60 ticks) used to stop the run in the core's configuration check.
    @Test func theComparisonRunsWithAnElectionTimeoutAboveThePreemptionWindow() async throws {
        var settings = ComparisonSettings()
        settings.template.electionTimeoutTicks = 150
        settings.sizes = [3]
        settings.scenarios = [.leaderCrash]
        settings.algorithms = [.raft]
        settings.seedsPerCell = 2
        let matrix = await ComparisonMatrix.run(settings)
        #expect(matrix.failures.isEmpty, "\(matrix.failures)")
        #expect(!matrix.cells.isEmpty)
    }

    @Test func aSmallComparisonMatrixMeasuresTheTextbookShape() async throws {
        var settings = ComparisonSettings()
        settings.sizes = [3, 9]
        settings.seedsPerCell = 2
        let matrix = await ComparisonMatrix.run(settings)
        #expect(matrix.failures.isEmpty, "\(matrix.failures)")
        #expect(matrix.cells.count == 2 * 3 * ComparisonScenario.allCases.count)
        #expect(matrix.cells.allSatisfy { $0.runs == 2 })

        // A returning higher ID bullies its way in; Raft (PreVote) and Ring do not take over.
        let rejoin = { (algorithm: ElectionAlgorithmKind) in matrix.cell(algorithm, 9, .leaderCrash)?.rejoinSwitchesMean }
        #expect(rejoin(.bully) == 1)
        #expect(rejoin(.raft) == 0)
        #expect(rejoin(.ring) == 0)
        // Split brain during the partition for the quorum-less algorithms only.
        #expect(matrix.cell(.raft, 9, .partition)?.splitBrainMeanMilliseconds == 0)
        #expect(matrix.cell(.bully, 9, .partition)!.splitBrainMeanMilliseconds > 0)
        #expect(matrix.cell(.ring, 9, .partition)!.splitBrainMeanMilliseconds > 0)
        // Bully's cold start asks every higher ID: at least n(n−1)/4 election messages at n = 9.
        #expect(matrix.cell(.bully, 9, .coldStart)!.messagesMean >= 18)

        let csv = matrix.csv().split(separator: "\n")
        #expect(csv.count == 1 + matrix.cells.count)
        #expect(csv.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == 21 })
        let svg = matrix.svg()
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        #expect(svg.contains("Election messages after a leader crash"))
        #expect(try matrix.json().contains("\"split_brain_mean_ms\""))
        #expect(matrix.table().contains("### partition-heal"))
    }

    /// The comparison runs up to 101 nodes; each algorithm elects, loses its leader, and elects
    /// again at that size within the bound.
    @Test(arguments: ElectionAlgorithmKind.allCases)
    func aHundredAndOneNodeClusterElects(algorithm: ElectionAlgorithmKind) throws {
        var cluster = ScriptedCluster(nodes: 101, seed: 3) { $0.algorithm = algorithm }
        let elected = cluster.runUntilStableLeader(among: cluster.members, limit: 20 * electionTimeout)
        let first = try #require(elected)
        cluster.crash(first.leader)
        let survivors = cluster.members.filter { $0 != first.leader }
        let second = cluster.runUntilStableLeader(among: survivors, limit: 20 * electionTimeout)
        #expect(second != nil && second!.leader != first.leader)
        #expect(cluster.violations.isEmpty)
    }
}
