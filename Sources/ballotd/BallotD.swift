import ArgumentParser
import BallotBuildInfo
import BallotNodeCommand
import BallotServer

/// `ballotd`: one Ballot node running Raft, or elected through etcd or ZooKeeper (`--backend`), as
/// `ballot serve` runs it, in a binary that holds nothing else (no simulator, harness, benchmarks or
/// client commands) — what to deploy. It keeps about 1.5 MiB less resident than `ballot serve`
/// (docs/performance.md, idle cost). Bully and Ring have no quorum and no lease, so it does not
/// offer them (`ballot serve --algorithm` does).
@main
struct BallotD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ballotd",
        abstract: "Run one Ballot node (Raft, or --backend etcd|zookeeper; the same node and flags as `ballot serve`).",
        discussion: NodeOptions.discussion(command: "ballotd"),
        version: BuildInfo.description
    )

    @OptionGroup var node: NodeOptions

    func run() async throws {
        try await node.run(as: .ballotd)
    }
}
