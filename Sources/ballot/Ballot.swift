import ArgumentParser
import BallotClient
import BallotBuildInfo
import BallotServer

/// The `ballot` command: run, inspect and simulate Ballot leader-election clusters.
@main
struct Ballot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ballot",
        abstract: "Leader election with Raft: one leader among N processes, observable and fenced.",
        version: BuildInfo.description,
        subcommands: [
            LocalCommand.self, ServeCommand.self, StatusCommand.self, TransferCommand.self, SimulateCommand.self,
            BenchCommand.self, FaultsCommand.self, RunCommand.self, WatchCommand.self, SidecarKeeperCommand.self,
            CertsCommand.self, RecoverStateCommand.self,
        ]
    )
}
