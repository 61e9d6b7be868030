import ArgumentParser
import BallotHarness
import BallotServer
import Foundation

/// The leader-only writer of the sidecar fault suite and of `ballot bench lock`: records when it runs
/// and under which term, and nothing else (never reads its lease pipe).
struct SidecarWriterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sidecar-writer",
        abstract: "Internal: record on CLOCK_MONOTONIC when this process runs and under which term (fault suite, bench lock).",
        shouldDisplay: false)

    @Option(help: "Directory for the record file.")
    var record: String

    @Option(help: "Node label (default: BALLOT_NODE_ID).")
    var node: UInt64?

    @Option(help: "Environment variable holding the term or fencing token.")
    var termVariable = "BALLOT_TERM"

    @Flag(help: "Ignore SIGTERM (the worst case: only SIGKILL stops it).")
    var ignoreSigterm = false

    @Option(name: .customLong("for"), help: "Stop recording after this long.")
    var limit = "60m"

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        guard let node = node ?? environment["BALLOT_NODE_ID"].flatMap({ UInt64($0) }) else {
            throw ValidationError("no node: give --node or run under ballot run (BALLOT_NODE_ID)")
        }
        guard let term = environment[termVariable].flatMap({ UInt64($0) }) else {
            throw ValidationError("\(termVariable) is not set to a number")
        }
        let duration: Duration
        do { duration = try DurationParser.parse(limit) } catch { throw ValidationError("\(error)") }
        try ChildRunRecorder.run(directory: record, node: node, term: term, ignoreTerminate: ignoreSigterm, limit: duration)
    }
}
