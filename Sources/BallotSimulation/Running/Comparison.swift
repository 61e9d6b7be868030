import BallotCore

/// The scripted situations of the algorithm comparison. Each is a phase of a scripted run; every
/// run starts with a cold start and a settled leader.
public enum ComparisonScenario: String, CaseIterable, Hashable, Sendable {
    /// Every node boots at once with no leader; measured until all follow one leader.
    case coldStart = "cold-start"
    /// The leader crashes; measured until every live node follows a new leader. Then the old
    /// leader restarts, and the leadership changes its return causes are counted.
    case leaderCrash = "leader-crash"
    /// The leader crashes, and as soon as the first node campaigns, the node that this election
    /// would have made leader crashes too. Then both restart (rejoin).
    case crashDuringElection = "crash-during-election"
    /// The cluster splits: the leader and the lowest ⌊(n−1)/2⌋−1 others form a minority. Measured
    /// for the partition's whole length (10 T): the majority's new leader, and split brain.
    case partition
    /// The same partition heals; measured until all follow one leader, and the changes the
    /// minority's return causes.
    case partitionHeal = "partition-heal"
    /// The link between the leader and the lowest other member goes down for 2.5 T and up for
    /// 0.5 T, five times; measured from the first cut until all follow one leader after the last.
    case flappingLink = "flapping-link"

    /// A one-line explanation for reports.
    public var summary: String {
        switch self {
        case .coldStart: "all nodes boot at once; time from boot until every node follows one leader"
        case .leaderCrash: "the leader crashes; time until every live node follows a new one; then it restarts"
        case .crashDuringElection:
            "the leader crashes, and the would-be winner crashes as the first campaign starts; then both restart"
        case .partition: "the leader's minority is cut off for 10 T; time until the majority side follows a leader"
        case .partitionHeal: "the partition heals; time until every node follows one leader"
        case .flappingLink: "the leader's link to one member fails 5 times (2.5 T down, 0.5 T up); time after the last repair"
        }
    }

    /// What the "rejoin changes" column counts in this scenario, or `nil` where nothing rejoins.
    public var rejoinMeaning: String? {
        switch self {
        case .coldStart, .partition: nil
        case .leaderCrash: "in the 10 T after the crashed leader restarts"
        case .crashDuringElection: "in the 10 T after both crashed nodes restart, where the survivors had a leader"
        case .partitionHeal: "in the 10 T after the minority rejoins"
        case .flappingLink: "from the first cut until the end"
        }
    }

    var script: ComparisonScript {
        switch self {
        case .coldStart, .leaderCrash: .crash
        case .crashDuringElection: .doubleCrash
        case .partition, .partitionHeal: .partition
        case .flappingLink: .flapping
        }
    }
}

/// One scripted run measures the scenarios of one script: a cold start also opens the crash script.
enum ComparisonScript: UInt64, CaseIterable, Hashable, Sendable {
    case crash = 1
    case doubleCrash = 2
    case partition = 3
    case flapping = 4

    var scenarios: [ComparisonScenario] { ComparisonScenario.allCases.filter { $0.script == self } }
}

/// What one phase of one scripted run measured.
public struct PhaseSample: Hashable, Sendable {
    public var seed: UInt64
    /// Messages that are not heartbeats (or heartbeat acknowledgements) sent during the phase,
    /// from its trigger until it settled, and their bytes on the wire.
    public var electionMessages: Int
    public var electionBytes: Int
    /// Every message of the phase, heartbeats included.
    public var allMessages: Int
    /// From the trigger until the group the phase waits for followed one leader; `nil` if never.
    public var stableMicroseconds: UInt64?
    /// Time during the phase in which two or more nodes would each answer "I am the leader".
    public var splitBrainMicroseconds: UInt64
    /// New (leader, term) claims after a rejoin (see ``ComparisonScenario/rejoinMeaning``); `nil`
    /// where nothing rejoins, or where no leader was established when it did.
    public var rejoinLeaderChanges: Int?
    /// How many of those claims changed who leads, starting from the leader before the rejoin.
    public var rejoinLeaderSwitches: Int?
    /// Election messages sent in the rejoin window.
    public var rejoinElectionMessages: Int?
}

/// A run in which a property the algorithm promises broke: a safety invariant, or liveness.
public struct ComparisonFailure: Hashable, Sendable, CustomStringConvertible {
    public var algorithm: ElectionAlgorithmKind
    public var nodes: Int
    public var scenarios: [ComparisonScenario]
    public var seed: UInt64
    /// The `--first-seed` that replays this run alone, with `--seeds-per-cell 1`.
    public var replayFirstSeed: UInt64
    /// T of the run, in ticks; named in the replay command when it is not the default.
    public var electionTimeoutTicks: UInt64
    public var violation: Violation

    public var description: String {
        "\(algorithm) n=\(nodes) \(scenarios.map(\.rawValue).joined(separator: "+")) seed \(seed): \(violation)"
    }

    /// The command that replays exactly this run.
    public var replayCommand: String {
        "swift run -c release ballot simulate --compare --algorithms \(algorithm.rawValue) --sizes \(nodes) "
            + "--scenarios \(scenarios.map(\.rawValue).joined(separator: ",")) --seeds-per-cell 1 "
            + "--first-seed \(replayFirstSeed)"
            + (electionTimeoutTicks == SimulationOptions(seed: 0).electionTimeoutTicks
                ? "" : " --election-timeout-ticks \(electionTimeoutTicks)")
    }
}

/// All measurements of one algorithm, cluster size and scenario.
public struct ComparisonCell: Hashable, Sendable {
    public var algorithm: ElectionAlgorithmKind
    public var nodes: Int
    public var scenario: ComparisonScenario
    public var samples: [PhaseSample] = []

    public var runs: Int { samples.count }
    public var messagesMean: Double { mean(samples.map { Double($0.electionMessages) }) }
    public var messagesMax: Int { samples.map(\.electionMessages).max() ?? 0 }
    public var bytesMean: Double { mean(samples.map { Double($0.electionBytes) }) }
    public var bytesMax: Int { samples.map(\.electionBytes).max() ?? 0 }
    /// Stabilisation times of the runs that stabilised, in virtual milliseconds.
    public var stableMilliseconds: [Double] { samples.compactMap(\.stableMicroseconds).map { Double($0) / 1000 } }
    /// Runs in which the group never followed one leader within the bound.
    public var unstableRuns: Int { samples.count { $0.stableMicroseconds == nil } }
    public var stableMeanMilliseconds: Double? { stableMilliseconds.isEmpty ? nil : mean(stableMilliseconds) }
    public var stableP99Milliseconds: Double? { percentile(stableMilliseconds, 0.99) }
    public var splitBrainMeanMilliseconds: Double { mean(samples.map { Double($0.splitBrainMicroseconds) / 1000 }) }
    public var splitBrainMaxMilliseconds: Double {
        Double(samples.map(\.splitBrainMicroseconds).max() ?? 0) / 1000
    }
    /// Runs with any split brain at all.
    public var splitBrainRuns: Int { samples.count { $0.splitBrainMicroseconds > 0 } }
    public var rejoinChangesMean: Double? {
        let values = samples.compactMap(\.rejoinLeaderChanges)
        return values.isEmpty ? nil : mean(values.map(Double.init))
    }
    public var rejoinChangesMax: Int? { samples.compactMap(\.rejoinLeaderChanges).max() }
    public var rejoinSwitchesMean: Double? {
        let values = samples.compactMap(\.rejoinLeaderSwitches)
        return values.isEmpty ? nil : mean(values.map(Double.init))
    }
    public var rejoinMessagesMean: Double? {
        let values = samples.compactMap(\.rejoinElectionMessages)
        return values.isEmpty ? nil : mean(values.map(Double.init))
    }
}

func mean(_ values: [Double]) -> Double {
    values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
}

/// The nearest-rank percentile (`q` in 0…1): the smallest value at or above a `q` share of them.
func percentile(_ values: [Double], _ q: Double) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    let rank = Int((q * Double(sorted.count)).rounded(.up))
    return sorted[min(sorted.count, max(1, rank)) - 1]
}

/// What to compare, and how long each phase lasts.
public struct ComparisonSettings: Hashable, Sendable {
    /// Seeds per (algorithm, size, scenario): with the defaults the whole matrix takes about two
    /// minutes of a release build on two cores.
    public static let defaultSeedsPerCell = 100
    public static let defaultSizes = [3, 5, 7, 9, 15, 25, 51, 101]

    public var algorithms: [ElectionAlgorithmKind] = ElectionAlgorithmKind.allCases
    public var sizes: [Int] = ComparisonSettings.defaultSizes
    public var scenarios: [ComparisonScenario] = ComparisonScenario.allCases
    public var seedsPerCell = ComparisonSettings.defaultSeedsPerCell
    public var firstSeed: UInt64 = 1
    public var parallelism = 2
    /// Timing and network of every run; the seed, size and algorithm are set per run, and the
    /// network is loss-free (the scenarios are the faults).
    public var template = SimulationOptions(seed: 0, faults: [])

    /// Phase lengths, in election timeouts T.
    public var partitionTimeouts = 10.0
    public var rejoinWindowTimeouts = 10.0
    public var settleTimeouts = 3.0
    /// The longest a phase may take to produce a stable leader before the run counts as failed.
    public var stabilityBoundTimeouts = 40.0
    public var flapCycles = 5
    public var flapDownTimeouts = 2.5
    public var flapUpTimeouts = 0.5

    public init() {}

    /// T in virtual milliseconds.
    public var electionTimeoutMilliseconds: Double {
        Double(template.electionTimeoutTicks * template.tickMicroseconds) / 1000
    }

    /// The seed of run `index` of `script` on `nodes` members; the same for every algorithm, so
    /// that the algorithms meet the same network draws (though their histories diverge).
    func seed(script: ComparisonScript, nodes: Int, index: Int) -> UInt64 {
        (script.rawValue << 56) | (UInt64(nodes) << 40) | (firstSeed &+ UInt64(index)) & 0xFF_FFFF_FFFF
    }

    var scripts: [ComparisonScript] { ComparisonScript.allCases.filter { script in scenarios.contains { $0.script == script } } }
}

/// The measured comparison matrix: one cell per algorithm, cluster size and scenario.
public struct ComparisonMatrix: Sendable {
    public var settings: ComparisonSettings
    public var cells: [ComparisonCell]
    public var failures: [ComparisonFailure]
    /// Wall-clock seconds the run took (0 when not measured).
    public var wallSeconds: Double = 0

    public func cell(_ algorithm: ElectionAlgorithmKind, _ nodes: Int, _ scenario: ComparisonScenario) -> ComparisonCell? {
        cells.first { $0.algorithm == algorithm && $0.nodes == nodes && $0.scenario == scenario }
    }

    /// Runs every script `settings.seedsPerCell` times per algorithm and size, `parallelism` at a
    /// time (largest clusters first, so the long runs do not end up alone at the end).
    /// `progress` is told how many runs of how many are done.
    public static func run(
        _ settings: ComparisonSettings, progress: (@Sendable (Int, Int) -> Void)? = nil
    ) async -> ComparisonMatrix {
        struct Job: Sendable {
            var algorithm: ElectionAlgorithmKind
            var nodes: Int
            var script: ComparisonScript
            var index: Int
        }
        var jobs: [Job] = []
        for nodes in settings.sizes.sorted(by: >) {
            for script in settings.scripts {
                for algorithm in settings.algorithms {
                    for index in 0..<settings.seedsPerCell {
                        jobs.append(Job(algorithm: algorithm, nodes: nodes, script: script, index: index))
                    }
                }
            }
        }
        var samples: [CellKey: [PhaseSample]] = [:]
        var failures: [ComparisonFailure] = []
        var done = 0
        await withTaskGroup(of: (Job, ScriptOutcome).self) { group in
            var next = 0
            func submit() {
                guard next < jobs.count else { return }
                let job = jobs[next]
                next += 1
                group.addTask {
                    (job, ScriptRunner.run(job.script, algorithm: job.algorithm, nodes: job.nodes, index: job.index,
                                           settings: settings))
                }
            }
            for _ in 0..<max(1, settings.parallelism) { submit() }
            while let (job, outcome) = await group.next() {
                for (scenario, sample) in outcome.samples where settings.scenarios.contains(scenario) {
                    samples[CellKey(algorithm: job.algorithm, nodes: job.nodes, scenario: scenario), default: []]
                        .append(sample)
                }
                failures += outcome.violations.map {
                    ComparisonFailure(
                        algorithm: job.algorithm, nodes: job.nodes, scenarios: job.script.scenarios,
                        seed: settings.seed(script: job.script, nodes: job.nodes, index: job.index),
                        replayFirstSeed: settings.firstSeed &+ UInt64(job.index),
                        electionTimeoutTicks: settings.template.electionTimeoutTicks, violation: $0)
                }
                done += 1
                progress?(done, jobs.count)
                submit()
            }
        }
        var cells: [ComparisonCell] = []
        for scenario in ComparisonScenario.allCases where settings.scenarios.contains(scenario) {
            for algorithm in ElectionAlgorithmKind.allCases where settings.algorithms.contains(algorithm) {
                for nodes in settings.sizes.sorted() {
                    let key = CellKey(algorithm: algorithm, nodes: nodes, scenario: scenario)
                    let runs = (samples[key] ?? []).sorted { $0.seed < $1.seed }
                    cells.append(ComparisonCell(algorithm: algorithm, nodes: nodes, scenario: scenario, samples: runs))
                }
            }
        }
        failures.sort { ($0.algorithm.rawValue, $0.nodes, $0.seed) < ($1.algorithm.rawValue, $1.nodes, $1.seed) }
        return ComparisonMatrix(settings: settings, cells: cells, failures: failures)
    }
}

struct CellKey: Hashable, Sendable {
    var algorithm: ElectionAlgorithmKind
    var nodes: Int
    var scenario: ComparisonScenario
}
