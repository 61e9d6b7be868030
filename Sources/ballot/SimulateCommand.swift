import ArgumentParser
import BallotCore
import BallotSimulation

/// `ballot simulate`: run seeded fault schedules against the election cores and check invariants.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run seeded, deterministic cluster simulations with fault injection and invariant checks.",
        discussion: """
            With --seeds N, runs N random fault schedules and prints a summary; any violation prints its \
            seed and the exact command that replays it. With --seed S, replays one schedule and prints \
            its trace.
            """
    )

    @Option(help: "Run this many random fault schedules (seeds first-seed, first-seed+1, …).")
    var seeds: Int?

    @Option(help: "The first seed of a --seeds run.")
    var firstSeed: UInt64 = 1

    @Option(help: "Replay exactly one schedule and print its trace.")
    var seed: UInt64?

    @Option(help: "Cluster size (default: chosen by each seed among 1…7).")
    var nodes: Int?

    @Option(help: "Comma-separated faults to inject: \(FaultKind.allCases.map(\.rawValue).joined(separator: ",")), all, or none.")
    var faults: String = "all"

    @Option(help: "Election algorithm: \(AlgorithmKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var algorithm: String = "raft"

    @Flag(help: "Turn PreVote off (to watch a rejoining node disrupt the leader).")
    var noPreVote = false

    @Flag(help: "Turn CheckQuorum (and with it the leader lease) off.")
    var noCheckQuorum = false

    @Flag(help: "Turn leader stickiness off.")
    var noStickiness = false

    @Flag(help: "Turn fast failover off (campaign on a dead leader's closed connections).")
    var noFastFailover = false

    @Option(help: "Schedules simulated at once (one per core is fastest).")
    var parallelism: Int = 2

    func validate() throws {
        if seeds == nil && seed == nil { throw ValidationError("give --seeds N to run many schedules, or --seed S to replay one") }
        if seeds != nil && seed != nil { throw ValidationError("--seeds and --seed are exclusive: run many, or replay one") }
        if let seeds, seeds < 1 { throw ValidationError("--seeds must be at least 1") }
        if let nodes, !(1...1001).contains(nodes) { throw ValidationError("--nodes must be between 1 and 1001") }
        _ = try parsedFaults()
        if AlgorithmKind(rawValue: algorithm) == nil {
            throw ValidationError("unknown --algorithm '\(algorithm)'; use one of \(AlgorithmKind.allCases.map(\.rawValue))")
        }
    }

    func parsedFaults() throws -> Set<FaultKind> {
        switch faults {
        case "all": return Set(FaultKind.allCases)
        case "none": return []
        default:
            var kinds = Set<FaultKind>()
            for name in faults.split(separator: ",") {
                guard let kind = FaultKind(rawValue: String(name)) else {
                    throw ValidationError("unknown fault '\(name)'; use \(FaultKind.allCases.map(\.rawValue).joined(separator: ",")), all or none")
                }
                kinds.insert(kind)
            }
            return kinds
        }
    }

    func options(seed: UInt64) throws -> SimulationOptions {
        var options = SimulationOptions(
            seed: seed, nodes: nodes, faults: try parsedFaults(), algorithm: AlgorithmKind(rawValue: algorithm)!)
        options.preVote = !noPreVote
        options.checkQuorum = !noCheckQuorum
        options.leaderStickiness = !noStickiness
        options.fastFailover = !noFastFailover
        return options
    }

    func run() async throws {
        if let seed {
            var options = try options(seed: seed)
            options.trace = true
            let result = ClusterSimulator.run(options)
            for line in result.trace { print(line) }
            print(SimulationReport.single(result))
            if !result.passed { throw ExitCode(1) }
            return
        }
        let template = try options(seed: 0)
        let clock = ContinuousClock()
        let start = clock.now
        let summary = await SeedSweep.run(first: firstSeed, count: seeds ?? 0, parallelism: parallelism) { seed in
            var options = template
            options.seed = seed
            return options
        }
        let elapsed = clock.now - start
        print(SimulationReport.sweep(summary, wallSeconds: elapsed.seconds))
        if !summary.failures.isEmpty { throw ExitCode(1) }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
