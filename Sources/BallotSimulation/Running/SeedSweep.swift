import BallotCore

/// Runs many seeded histories and sums them up; every failing seed keeps its replay command.
public enum SeedSweep {
    public struct Failure: Sendable {
        public var seed: UInt64
        public var violation: Violation
        public var replayCommand: String
    }

    public struct Summary: Sendable {
        public var schedules = 0
        public var elections = 0
        public var campaigns = 0
        public var events = 0
        public var messages = 0
        public var bytes = 0
        /// Split brain summed over all schedules (see ``SimulationResult/splitBrainMicroseconds``).
        public var splitBrainMicroseconds: UInt64 = 0
        public var splitBrainEpisodes = 0
        /// Schedules that had any split brain.
        public var schedulesWithSplitBrain = 0
        /// Breaches of properties the algorithm does not promise, measured rather than failed.
        public var measuredBreaches: [Violation.Property: Int] = [:]
        public var faults: [FaultKind: Int] = [:]
        /// Nodes halted by disk failures (each restarted when its fault healed).
        public var halts = 0
        /// Leases released early, every holder having stopped (issue 15).
        public var leaseReleases = 0
        public var failures: [Failure] = []
        /// Time from healing to a leader known to all, per passing schedule, in microseconds.
        public var stabilisationMicroseconds: [UInt64] = []
        /// Issue 15: preemptive hand-overs in all schedules, the most within one preemption window
        /// of any schedule, and the most new leaderships within one window (the flapping measure).
        public var preemptions = 0
        public var maxPreemptionsPerWindow = 0
        public var maxLeaderChangesPerWindow = 0
        /// Issue 15, with priorities: schedules whose leader at the end has the highest priority,
        /// out of those that had priorities.
        public var endedWithPreferredLeader = 0
        public var schedulesWithPriorities = 0

        public var totalFaults: Int { faults.values.reduce(0, +) }

        /// Why this sweep proves nothing although it found no violation: fewer schedules ran than
        /// were asked for, no schedule elected anyone, or faults were asked for and none was injected.
        /// Empty for a sweep that exercised what it claims to.
        public func vacuity(requestedSchedules: Int, faultsRequested: Bool) -> [String] {
            var reasons: [String] = []
            if schedules < requestedSchedules { reasons.append("only \(schedules) of \(requestedSchedules) schedules ran") }
            if elections == 0 { reasons.append("no schedule elected a leader") }
            if faultsRequested && totalFaults == 0 { reasons.append("faults were asked for but none was injected") }
            return reasons
        }

        mutating func add(_ result: SimulationResult) {
            schedules += 1
            elections += result.elections
            campaigns += result.campaignsStarted
            events += result.eventsProcessed
            messages += result.messagesSent
            bytes += result.bytesSent
            splitBrainMicroseconds += result.splitBrainMicroseconds
            splitBrainEpisodes += result.splitBrainEpisodes
            if result.splitBrainMicroseconds > 0 { schedulesWithSplitBrain += 1 }
            for (property, count) in result.measuredBreaches { measuredBreaches[property, default: 0] += count }
            for (kind, count) in result.faultsInjected { faults[kind, default: 0] += count }
            halts += result.halts
            leaseReleases += result.leaseReleases
            if let t = result.timeToStableLeaderMicroseconds { stabilisationMicroseconds.append(t) }
            let window = result.options.preemptAfterTicks * result.options.tickMicroseconds
            preemptions += result.preemptions.count
            maxPreemptionsPerWindow = max(maxPreemptionsPerWindow, result.maxPreemptions(within: window))
            maxLeaderChangesPerWindow = max(maxLeaderChangesPerWindow, result.maxLeaderChanges(within: window))
            if let preferred = result.endedWithPreferredLeader {
                schedulesWithPriorities += 1
                if preferred { endedWithPreferredLeader += 1 }
            }
            for violation in result.violations {
                failures.append(Failure(seed: result.options.seed, violation: violation,
                                        replayCommand: result.options.replayCommand))
            }
        }

        /// The q-quantile (0…1) of the stabilisation times, in milliseconds.
        public func stabilisationQuantile(_ q: Double) -> Double? {
            guard !stabilisationMicroseconds.isEmpty else { return nil }
            let sorted = stabilisationMicroseconds.sorted()
            let index = min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded(.up)))
            return Double(sorted[index]) / 1000
        }
    }

    /// Runs seeds `first ..< first + count`, `parallelism` at a time.
    public static func run(
        first: UInt64, count: Int, parallelism: Int = 2,
        options: @escaping @Sendable (UInt64) -> SimulationOptions
    ) async -> Summary {
        var summary = Summary()
        await withTaskGroup(of: SimulationResult.self) { group in
            var next = first
            let end = first + UInt64(count)
            func submit() {
                guard next < end else { return }
                let seed = next
                next += 1
                group.addTask { ClusterSimulator.run(options(seed)) }
            }
            for _ in 0..<max(1, parallelism) { submit() }
            while let result = await group.next() {
                summary.add(result)
                submit()
            }
        }
        summary.failures.sort { $0.seed < $1.seed }
        return summary
    }
}
