import BallotCore
import Foundation

/// One cell of the matrix as flat, named numbers: the shape of every report (table, CSV, JSON).
public struct ComparisonRow: Codable, Hashable, Sendable {
    public var scenario: String
    public var algorithm: String
    public var nodes: Int
    public var runs: Int
    public var electionMessagesMean: Double
    public var electionMessagesMax: Int
    public var electionBytesMean: Double
    public var electionBytesMax: Int
    public var stableRuns: Int
    public var unstableRuns: Int
    public var stableMeanMs: Double?
    public var stableP99Ms: Double?
    /// The same times in election timeouts T.
    public var stableMeanT: Double?
    public var stableP99T: Double?
    public var splitBrainMeanMs: Double
    public var splitBrainMaxMs: Double
    public var splitBrainRuns: Int
    public var rejoinChangesMean: Double?
    public var rejoinChangesMax: Int?
    public var rejoinSwitchesMean: Double?
    public var rejoinElectionMessagesMean: Double?

    enum CodingKeys: String, CodingKey {
        case scenario, algorithm, nodes, runs
        case electionMessagesMean = "election_messages_mean"
        case electionMessagesMax = "election_messages_max"
        case electionBytesMean = "election_bytes_mean"
        case electionBytesMax = "election_bytes_max"
        case stableRuns = "stable_runs"
        case unstableRuns = "unstable_runs"
        case stableMeanMs = "stable_mean_ms"
        case stableP99Ms = "stable_p99_ms"
        case stableMeanT = "stable_mean_T"
        case stableP99T = "stable_p99_T"
        case splitBrainMeanMs = "split_brain_mean_ms"
        case splitBrainMaxMs = "split_brain_max_ms"
        case splitBrainRuns = "split_brain_runs"
        case rejoinChangesMean = "rejoin_changes_mean"
        case rejoinChangesMax = "rejoin_changes_max"
        case rejoinSwitchesMean = "rejoin_leader_switches_mean"
        case rejoinElectionMessagesMean = "rejoin_election_messages_mean"
    }

    init(_ cell: ComparisonCell, electionTimeoutMilliseconds t: Double) {
        scenario = cell.scenario.rawValue
        algorithm = cell.algorithm.rawValue
        nodes = cell.nodes
        runs = cell.runs
        electionMessagesMean = cell.messagesMean
        electionMessagesMax = cell.messagesMax
        electionBytesMean = cell.bytesMean
        electionBytesMax = cell.bytesMax
        stableRuns = cell.stableMilliseconds.count
        unstableRuns = cell.unstableRuns
        stableMeanMs = cell.stableMeanMilliseconds
        stableP99Ms = cell.stableP99Milliseconds
        stableMeanT = cell.stableMeanMilliseconds.map { $0 / t }
        stableP99T = cell.stableP99Milliseconds.map { $0 / t }
        splitBrainMeanMs = cell.splitBrainMeanMilliseconds
        splitBrainMaxMs = cell.splitBrainMaxMilliseconds
        splitBrainRuns = cell.splitBrainRuns
        rejoinChangesMean = cell.rejoinChangesMean
        rejoinChangesMax = cell.rejoinChangesMax
        rejoinSwitchesMean = cell.rejoinSwitchesMean
        rejoinElectionMessagesMean = cell.rejoinMessagesMean
    }

    /// The CSV header, in ``csvFields`` order.
    static let csvHeader = [
        "scenario", "algorithm", "nodes", "runs", "election_messages_mean", "election_messages_max",
        "election_bytes_mean", "election_bytes_max", "stable_runs", "unstable_runs", "stable_mean_ms",
        "stable_p99_ms", "stable_mean_T", "stable_p99_T", "split_brain_mean_ms", "split_brain_max_ms",
        "split_brain_runs", "rejoin_changes_mean", "rejoin_changes_max", "rejoin_leader_switches_mean",
        "rejoin_election_messages_mean",
    ]

    var csvFields: [String] {
        [
            scenario, algorithm, String(nodes), String(runs), fixed(electionMessagesMean, 1),
            String(electionMessagesMax), fixed(electionBytesMean, 1), String(electionBytesMax), String(stableRuns),
            String(unstableRuns), fixed(stableMeanMs, 2), fixed(stableP99Ms, 2), fixed(stableMeanT, 3),
            fixed(stableP99T, 3), fixed(splitBrainMeanMs, 2), fixed(splitBrainMaxMs, 2), String(splitBrainRuns),
            fixed(rejoinChangesMean, 2), rejoinChangesMax.map(String.init) ?? "", fixed(rejoinSwitchesMean, 2),
            fixed(rejoinElectionMessagesMean, 1),
        ]
    }
}

/// `value` with `digits` decimals; empty for `nil`.
func fixed(_ value: Double?, _ digits: Int) -> String {
    guard let value else { return "" }
    return String(format: "%.\(digits)f", value)
}

extension ComparisonMatrix {
    public var rows: [ComparisonRow] {
        cells.map { ComparisonRow($0, electionTimeoutMilliseconds: settings.electionTimeoutMilliseconds) }
    }

    /// The network and timing every number was measured with, in one sentence.
    public var conditions: String {
        let options = settings.template
        let t = settings.electionTimeoutMilliseconds
        return "T = \(fixed(t, 0)) ms (election/failure timeout \(options.electionTimeoutTicks) ticks of "
            + "\(fixed(Double(options.tickMicroseconds) / 1000, 0)) ms, drawn from [T, 2T)), heartbeats every "
            + "\(options.heartbeatIntervalTicks) ticks, one-way latency uniform "
            + "\(fixed(Double(options.network.minDelayMicroseconds) / 1000, 1))–"
            + "\(fixed(Double(options.network.maxDelayMicroseconds) / 1000, 1)) ms, no loss, clock rates within "
            + "±\(fixed(options.clockDrift * 100, 0))%; \(settings.seedsPerCell) seeds per cell"
    }

    /// One Markdown table per scenario, readable as plain text too.
    public func table() -> String {
        var lines: [String] = ["Conditions: \(conditions).", ""]
        let header = [
            "algorithm", "n", "msgs/election mean", "max", "bytes/election mean", "max", "stable mean (T)",
            "p99 (T)", "mean (ms)", "p99 (ms)", "split brain mean (ms)", "runs with split brain",
            "rejoin: new terms / new leaders", "unstable runs",
        ]
        for scenario in ComparisonScenario.allCases {
            let scenarioRows = rows.filter { $0.scenario == scenario.rawValue }
            guard !scenarioRows.isEmpty else { continue }
            lines.append("### \(scenario.rawValue): \(scenario.summary)")
            if let meaning = scenario.rejoinMeaning {
                lines.append("(rejoin: leader terms begun and changes of who leads, \(meaning); means per run)")
            }
            lines.append("")
            var body: [[String]] = []
            for row in scenarioRows {
                body.append([
                    row.algorithm, String(row.nodes), fixed(row.electionMessagesMean, 1), String(row.electionMessagesMax),
                    fixed(row.electionBytesMean, 0), String(row.electionBytesMax), fixed(row.stableMeanT, 2),
                    fixed(row.stableP99T, 2), fixed(row.stableMeanMs, 1), fixed(row.stableP99Ms, 1),
                    fixed(row.splitBrainMeanMs, 1), "\(row.splitBrainRuns)/\(row.runs)",
                    row.rejoinChangesMean.map { "\(fixed($0, 2)) / \(fixed(row.rejoinSwitchesMean, 2))" } ?? "–",
                    String(row.unstableRuns),
                ].map { $0.isEmpty ? "–" : $0 })
            }
            lines += markdownTable(header: header, rows: body, rightAligned: Set(1..<header.count))
            lines.append("")
        }
        if failures.isEmpty {
            lines.append("No promised property broke (Raft's safety invariants, term monotonicity, liveness).")
        } else {
            lines.append("FAILURES (\(failures.count)):")
            for failure in failures.prefix(20) {
                lines.append("  \(failure)")
                lines.append("    replay: \(failure.replayCommand)")
            }
        }
        return lines.joined(separator: "\n")
    }

    public func csv() -> String {
        ([ComparisonRow.csvHeader.joined(separator: ",")] + rows.map { $0.csvFields.joined(separator: ",") })
            .joined(separator: "\n") + "\n"
    }

    /// The rows with the conditions they were measured under and any failures.
    public func json() throws -> String {
        struct Document: Encodable {
            var conditions: String
            var electionTimeoutMs: Double
            var seedsPerCell: Int
            var firstSeed: UInt64
            var rows: [ComparisonRow]
            var failures: [String]

            enum CodingKeys: String, CodingKey {
                case conditions, rows, failures
                case electionTimeoutMs = "election_timeout_ms"
                case seedsPerCell = "seeds_per_cell"
                case firstSeed = "first_seed"
            }
        }
        let document = Document(
            conditions: conditions, electionTimeoutMs: settings.electionTimeoutMilliseconds,
            seedsPerCell: settings.seedsPerCell, firstSeed: settings.firstSeed, rows: rows,
            failures: failures.map(\.description))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(document), as: UTF8.self) + "\n"
    }
}

/// Lines of a Markdown table whose columns are padded to line up in a terminal.
func markdownTable(header: [String], rows: [[String]], rightAligned: Set<Int>) -> [String] {
    let widths = header.indices.map { column in
        ([header[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0
    }
    func line(_ cells: [String]) -> String {
        let padded = cells.enumerated().map { column, cell in
            let padding = String(repeating: " ", count: widths[column] - cell.count)
            return rightAligned.contains(column) ? padding + cell : cell + padding
        }
        return "| " + padded.joined(separator: " | ") + " |"
    }
    let rule = "|" + widths.indices.map { column in
        rightAligned.contains(column)
            ? " " + String(repeating: "-", count: max(1, widths[column] - 1)) + ": "
            : " " + String(repeating: "-", count: widths[column]) + " "
    }.joined(separator: "|") + "|"
    return [line(header), rule] + rows.map(line)
}
