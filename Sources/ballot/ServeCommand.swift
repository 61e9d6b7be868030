import ArgumentParser
import BallotNodeCommand

/// `ballot serve`: run one node of a cluster (`ballotd` runs the same node in a smaller binary).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run one Ballot node.",
        discussion: NodeOptions.discussion(command: "ballot serve")
    )

    @OptionGroup var node: NodeOptions

    func run() async throws {
        try await node.run(as: "ballot serve")
    }
}
