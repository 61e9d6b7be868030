import ArgumentParser
import BallotClient
import BallotServer
import Foundation

/// `ballot watch`: one JSON line per change of a node's leadership view.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print one JSON line per change of a node's leadership view; optionally run a command for each.",
        discussion: """
            Follows GET /events of the node at --http and reconnects on its own (with Last-Event-ID). A line looks \
            like {"event":"elected","index":7,"node":1,"term":3,"leader":2,"role":"follower","is_leader":false,\
            "mono_ns":…}; role is leader (this node holds a valid lease), follower, or none. Lease extensions print \
            nothing. When the stream is lost it prints {"event":"disconnected","reason":…} once.

            With --exec CMD, CMD runs with /bin/sh -c for each change, one at a time and in order, with BALLOT_ROLE, \
            BALLOT_TERM, BALLOT_LEADER (empty if none), BALLOT_NODE_ID, BALLOT_INDEX and BALLOT_EVENT set.
            """
    )

    @Option(name: .customLong("http"), help: "HTTP address of the node: HOST:PORT, http://HOST:PORT or https://HOST:PORT.")
    var http: String = "127.0.0.1:9101"

    @OptionGroup var client: HTTPClientOptions

    @Option(help: "Shell command to run for each change.")
    var exec: String?

    @Option(help: "Exit after this many change lines.")
    var count: Int?

    func run() async throws {
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
        var options = LeadershipWatch.Options(subscription: LeadershipSubscription.Options(target: try client.target(http)))
        options.exec = exec
        options.count = count
        let output = FileHandle.standardOutput
        await LeadershipWatch.run(options, print: { line in output.write(Data((line + "\n").utf8)) },
                                  log: { line in FileHandle.standardError.write(Data("ballot watch: \(line)\n".utf8)) })
    }
}
