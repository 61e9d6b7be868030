import ArgumentParser
import BallotNodeCommand
import BallotServer

/// `ballot serve`: run one node of a cluster (`ballotd` runs the same node in a smaller binary).
/// Unlike `ballotd` it also runs Bully and Ring (`--algorithm`), for the comparison.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run one Ballot node (Raft, or Bully and Ring for comparison; or elected through etcd or ZooKeeper with --backend).",
        discussion: NodeOptions.discussion(command: "ballot serve")
    )

    @OptionGroup var node: NodeOptions

    @Option(help: .setting(.algorithm)) var algorithm: String?

    func run() async throws {
        try await node.run(as: .ballotServe, algorithm: algorithm)
    }
}
