/// Human-readable summaries of simulation runs.
public enum SimulationReport {
    public static func single(_ result: SimulationResult) -> String {
        var lines = [
            "seed \(result.options.seed): \(result.nodeCount) nodes, \(result.eventsProcessed) events, "
                + "\(result.totalFaults) faults, \(result.elections) elections, \(result.messagesSent) messages "
                + "(\(result.messagesDropped) dropped, \(result.bytesSent) bytes)",
        ]
        if result.splitBrainMicroseconds > 0 || !result.measuredBreaches.isEmpty {
            lines.append("split brain \(Double(result.splitBrainMicroseconds) / 1000) ms in \(result.splitBrainEpisodes) episodes"
                + measuredSummary(result.measuredBreaches))
        }
        if let t = result.timeToStableLeaderMicroseconds {
            lines.append("stable leader \(Double(t) / 1000) ms after healing")
        }
        if result.passed {
            lines.append("no violations")
        } else {
            lines += result.violations.map { "VIOLATION \($0)" }
            lines.append("replay: \(result.options.replayCommand)")
        }
        return lines.joined(separator: "\n")
    }

    public static func sweep(_ summary: SeedSweep.Summary, wallSeconds: Double) -> String {
        let faults = summary.faults.sorted { $0.key.rawValue < $1.key.rawValue }
            .map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: " ")
        var lines = [
            "schedules:   \(summary.schedules)",
            "elections:   \(summary.elections) (campaigns \(summary.campaigns))",
            "faults:      \(summary.totalFaults) (\(faults)); nodes halted by disk failures: \(summary.halts)",
            "events:      \(summary.events), messages \(summary.messages) (\(summary.bytes) bytes)",
        ]
        if summary.leaseReleases > 0 {
            lines.append("releases:    \(summary.leaseReleases) leases released early, every holder having stopped")
        }
        if summary.schedulesWithSplitBrain > 0 || !summary.measuredBreaches.isEmpty {
            lines.append(
                "split brain: \(Double(summary.splitBrainMicroseconds) / 1000) ms in \(summary.splitBrainEpisodes) episodes, "
                    + "\(summary.schedulesWithSplitBrain) schedules (measured, not a violation)"
                    + measuredSummary(summary.measuredBreaches))
        }
        if summary.schedulesWithPriorities > 0 || summary.preemptions > 0 {
            lines.append(
                "priorities:  \(summary.preemptions) preemptions, at most \(summary.maxPreemptionsPerWindow) per window; "
                    + "at most \(summary.maxLeaderChangesPerWindow) new leaderships per window; preferred leader at the end in "
                    + "\(summary.endedWithPreferredLeader)/\(summary.schedulesWithPriorities) schedules")
        }
        if let p50 = summary.stabilisationQuantile(0.5), let p99 = summary.stabilisationQuantile(0.99),
           let max = summary.stabilisationQuantile(1)
        {
            lines.append("after heal:  leader known to all in p50 \(p50) ms, p99 \(p99) ms, max \(max) ms (virtual)")
        }
        if wallSeconds > 0 {
            let rate = Double(summary.schedules) / wallSeconds
            let electionRate = Double(summary.elections) / wallSeconds
            lines.append("throughput:  \(Int(rate)) schedules/s, \(Int(electionRate)) elections/s (\(String(Int(wallSeconds * 10) / 10)).\(Int(wallSeconds * 10) % 10) s wall)")
        }
        lines.append("violations:  \(summary.failures.count)")
        for failure in summary.failures.prefix(20) {
            lines.append("  seed \(failure.seed): \(failure.violation)")
            lines.append("    replay: \(failure.replayCommand)")
        }
        return lines.joined(separator: "\n")
    }

    /// `; election-safety breaches 3` for the properties an algorithm does not promise.
    static func measuredSummary(_ breaches: [Violation.Property: Int]) -> String {
        breaches.sorted { $0.key.rawValue < $1.key.rawValue }
            .map { "; \($0.key.rawValue) breaches \($0.value)" }.joined()
    }
}
