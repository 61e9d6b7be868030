import ArgumentParser
import BallotNodeCommand
import BallotServer

/// `ballotd`: one Ballot node, exactly as `ballot serve` runs it, in a binary that holds nothing
/// else (no simulator, harness, benchmarks or client commands) — what to deploy. It keeps about
/// 1.5 MiB less resident than `ballot serve` (docs/performance.md, idle cost).
@main
struct BallotD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ballotd",
        abstract: "Run one Ballot node (the same node and flags as `ballot serve`).",
        discussion: NodeOptions.discussion(command: "ballotd"),
        version: BallotVersion.current
    )

    @OptionGroup var node: NodeOptions

    func run() async throws {
        try await node.run(as: "ballotd")
    }
}
