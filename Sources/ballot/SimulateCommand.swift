import ArgumentParser
import BallotCore
import BallotSimulation
import Foundation

/// `ballot simulate`: run seeded fault schedules against the election cores and check invariants.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run seeded, deterministic cluster simulations with fault injection and invariant checks.",
        discussion: """
            With --seeds N, runs N random fault schedules and prints a summary; any violation prints its \
            seed and the exact command that replays it, and it exits non-zero on any violation and on a \
            sweep that proves nothing (fewer schedules than asked, no election, no fault injected). With \
            --seed S, replays one schedule and prints its trace. With --compare, runs the scripted \
            scenarios (cold start, leader crash, a second crash during the election, partition, heal, \
            flapping link) for every algorithm and cluster size and prints the measured comparison matrix; --csv, --json and --svg write it to files. \
            Raft's safety invariants fail a run; Bully and Ring have no quorum, so their split brain is \
            measured instead. Use a release build for --compare.
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

    @Option(help: "Comma-separated faults to inject: \(FaultKind.allCases.filter(\.isSimulated).map(\.rawValue).joined(separator: ",")); standard (every kind but resign and candidacy), all, or none.")
    var faults: String = "standard"

    @Option(help: "Election algorithm: \(ElectionAlgorithmKind.allCases.map(\.rawValue).joined(separator: ", ")) (default raft).")
    var algorithm: String?

    @Flag(help: "Measure the algorithm comparison matrix over scripted scenarios.")
    var compare = false

    @Option(help: "With --compare: runs per algorithm, cluster size and scenario.")
    var seedsPerCell: Int = ComparisonSettings.defaultSeedsPerCell

    @Option(help: "With --compare: comma-separated cluster sizes, each at least 3.")
    var sizes: String = ComparisonSettings.defaultSizes.map(String.init).joined(separator: ",")

    @Option(help: "With --compare: comma-separated scenarios (\(ComparisonScenario.allCases.map(\.rawValue).joined(separator: ","))) or all.")
    var scenarios: String = "all"

    @Option(help: "With --compare: comma-separated algorithms or all.")
    var algorithms: String = "all"

    @Option(help: "With --compare: the election (and failure-detection) timeout T, in 10 ms ticks.")
    var electionTimeoutTicks: UInt64 = SimulationOptions(seed: 0).electionTimeoutTicks

    @Option(help: "With --compare: write the matrix as CSV to this file.")
    var csv: String?

    @Option(help: "With --compare: write the matrix as JSON to this file.")
    var json: String?

    @Option(help: "With --compare: write a chart of the headline measurements as SVG to this file.")
    var svg: String?

    @Flag(help: "Turn PreVote off (to watch a rejoining node disrupt the leader).")
    var noPreVote = false

    @Flag(help: "Turn CheckQuorum (and with it the leader lease) off.")
    var noCheckQuorum = false

    @Flag(help: "Turn leader stickiness off.")
    var noStickiness = false

    @Flag(help: "Turn fast failover off (campaign on a dead leader's closed connections).")
    var noFastFailover = false

    @Option(help: "Lease holders per node (whileLeader bodies, sidecars), which stop after a lease ends and confirm; default 0 to 2 per node, drawn from the seed.")
    var leaseHolders: Int?

    @Flag(help: "Never release a lease early when its holders stopped: successors wait for the published deadline.")
    var noLeaseRelease = false

    @Option(help: "Cap the lease at this many ticks (at least two heartbeats), or 'none' for the longest lease T allows; default: one schedule in three draws a cap from the seed.")
    var leaseLimitTicks: String?

    @Flag(help: "Give every node a leadership priority from 0 to 3, drawn from the seed (issue 15's preferred leaders).")
    var priorities = false

    @Option(help: "The preemption window in ticks: how long a higher-priority member must be healthy before the leader hands over (at least the election timeout).")
    var preemptAfterTicks: UInt64 = SimulationOptions(seed: 0).preemptAfterTicks

    @Option(help: "Schedules simulated at once (one per core is fastest).")
    var parallelism: Int = 2

    func validate() throws {
        if compare {
            if seeds != nil || seed != nil { throw ValidationError("--compare runs its own seeds; drop --seeds and --seed") }
            if nodes != nil || algorithm != nil {
                throw ValidationError("with --compare, choose sizes with --sizes and algorithms with --algorithms")
            }
            if seedsPerCell < 1 { throw ValidationError("--seeds-per-cell must be at least 1") }
            _ = try comparisonSettings()
            return
        }
        if csv != nil || json != nil || svg != nil { throw ValidationError("--csv, --json and --svg go with --compare") }
        if seeds == nil && seed == nil {
            throw ValidationError("give --seeds N to run many schedules, --seed S to replay one, or --compare")
        }
        if seeds != nil && seed != nil { throw ValidationError("--seeds and --seed are exclusive: run many, or replay one") }
        if let seeds, seeds < 1 { throw ValidationError("--seeds must be at least 1") }
        if let nodes, !(1...1001).contains(nodes) { throw ValidationError("--nodes must be between 1 and 1001") }
        _ = try parsedFaults()
        _ = try parsedAlgorithm()
        let electionTimeout = SimulationOptions(seed: 0).electionTimeoutTicks
        if preemptAfterTicks < electionTimeout {
            throw ValidationError("--preempt-after-ticks must be at least the election timeout (\(electionTimeout) ticks)")
        }
    }

    func parsedAlgorithm() throws -> ElectionAlgorithmKind {
        guard let algorithm else { return .raft }
        guard let kind = ElectionAlgorithmKind(rawValue: algorithm) else {
            throw ValidationError("unknown --algorithm '\(algorithm)'; use one of \(ElectionAlgorithmKind.allCases.map(\.rawValue))")
        }
        return kind
    }

    /// The comparison to run, from --sizes, --scenarios, --algorithms, --seeds-per-cell, --first-seed.
    func comparisonSettings() throws -> ComparisonSettings {
        var settings = ComparisonSettings()
        settings.seedsPerCell = seedsPerCell
        settings.firstSeed = firstSeed
        settings.parallelism = max(1, parallelism)
        guard electionTimeoutTicks > settings.template.heartbeatIntervalTicks, electionTimeoutTicks <= 10_000 else {
            throw ValidationError(
                "--election-timeout-ticks must exceed the heartbeat interval (\(settings.template.heartbeatIntervalTicks) ticks) "
                    + "and be at most 10000")
        }
        settings.template.electionTimeoutTicks = electionTimeoutTicks
        settings.sizes = try sizes.split(separator: ",").map { text in
            guard let size = Int(text), (3...1001).contains(size) else {
                throw ValidationError("--sizes takes cluster sizes from 3 to 1001, got '\(text)'")
            }
            return size
        }
        if settings.sizes.isEmpty { throw ValidationError("--sizes needs at least one size") }
        if scenarios != "all" {
            settings.scenarios = try scenarios.split(separator: ",").map { name in
                guard let scenario = ComparisonScenario(rawValue: String(name)) else {
                    throw ValidationError(
                        "unknown scenario '\(name)'; use \(ComparisonScenario.allCases.map(\.rawValue).joined(separator: ",")) or all")
                }
                return scenario
            }
        }
        if algorithms != "all" {
            settings.algorithms = try algorithms.split(separator: ",").map { name in
                guard let kind = ElectionAlgorithmKind(rawValue: String(name)) else {
                    throw ValidationError("unknown algorithm '\(name)'; use \(ElectionAlgorithmKind.allCases.map(\.rawValue)) or all")
                }
                return kind
            }
        }
        return settings
    }

    func parsedFaults() throws -> Set<FaultKind> {
        switch faults {
        case "all": return Set(FaultKind.allCases.filter(\.isSimulated))
        case "standard": return FaultKind.standard
        case "none": return []
        default:
            var kinds = Set<FaultKind>()
            for name in faults.split(separator: ",") {
                let simulated = FaultKind.allCases.filter(\.isSimulated).map(\.rawValue).joined(separator: ",")
                guard let kind = FaultKind(named: String(name)) else {
                    throw ValidationError("unknown fault '\(name)'; use \(simulated), standard, all or none")
                }
                guard !kind.isIntruder else {
                    throw ValidationError("'\(name)' is an intruder at the peer port, which only `ballot faults` injects into real processes")
                }
                guard kind.isSimulated else {
                    throw ValidationError("unknown fault '\(name)'; use \(simulated), standard, all or none")
                }
                kinds.insert(kind)
            }
            return kinds
        }
    }

    func options(seed: UInt64) throws -> SimulationOptions {
        var options = SimulationOptions(
            seed: seed, nodes: nodes, faults: try parsedFaults(), algorithm: try parsedAlgorithm())
        options.preVote = !noPreVote
        options.checkQuorum = !noCheckQuorum
        options.leaderStickiness = !noStickiness
        options.fastFailover = !noFastFailover
        options.priorities = priorities
        if let leaseHolders {
            guard (0...8).contains(leaseHolders) else {
                throw ValidationError("--lease-holders must be from 0 to 8, not \(leaseHolders)")
            }
            options.leaseHolders = leaseHolders
        }
        options.releasesLeases = !noLeaseRelease
        if let leaseLimitTicks {
            if leaseLimitTicks == "none" {
                options.leaseLimit = .none
            } else if let ticks = UInt64(leaseLimitTicks) {
                options.leaseLimit = .ticks(ticks)
                do { try options.validate() } catch {
                    throw ValidationError("--lease-limit-ticks \(ticks): \(error)")
                }
            } else {
                throw ValidationError("--lease-limit-ticks takes a number of ticks or 'none', not '\(leaseLimitTicks)'")
            }
        }
        options.preemptAfterTicks = preemptAfterTicks
        return options
    }

    func run() async throws {
        if compare {
            try await runComparison()
            return
        }
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
        let vacuity = summary.vacuity(requestedSchedules: seeds ?? 0, faultsRequested: !template.faults.isEmpty)
        for reason in vacuity { print("proves nothing: \(reason)") }
        if !summary.failures.isEmpty || !vacuity.isEmpty { throw ExitCode(1) }
    }
}

extension SimulateCommand {
    /// `ballot simulate --compare`: the matrix as tables on stdout, and the requested files.
    func runComparison() async throws {
        let settings = try comparisonSettings()
        let clock = ContinuousClock()
        let start = clock.now
        let matrix = await ComparisonMatrix.run(settings) { done, total in
            // Progress on stderr, at every tenth, so stdout stays the report.
            if done * 10 / total != (done - 1) * 10 / total || done == total {
                FileHandle.standardError.write(Data("compare: \(done)/\(total) runs\n".utf8))
            }
        }
        var measured = matrix
        measured.wallSeconds = (clock.now - start).seconds
        print(measured.table())
        print("\nwall time: \(String(format: "%.1f", measured.wallSeconds)) s")
        if let csv { try measured.csv().write(toFile: csv, atomically: true, encoding: .utf8) }
        if let json { try measured.json().write(toFile: json, atomically: true, encoding: .utf8) }
        if let svg { try measured.svg().write(toFile: svg, atomically: true, encoding: .utf8) }
        if !measured.failures.isEmpty { throw ExitCode(1) }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
