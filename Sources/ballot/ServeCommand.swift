import ArgumentParser
import BallotServer
import Logging
import ServiceLifecycle

/// `ballot serve`: run one node of a cluster.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run one Ballot node.",
        discussion: """
            Example (three nodes on one machine):
              ballot serve --id 1 --listen 127.0.0.1:7001 --peer 2=127.0.0.1:7002 --peer 3=127.0.0.1:7003 \\
                --http 127.0.0.1:9101 --data-dir ./data/1

            Settings can also come from a YAML file (--config); flags given on the command line override it.
            Durations take a unit: 500ms, 1s, 2m. Election timeouts are drawn from [T, 2T), T = --election-timeout.
            On SIGINT/SIGTERM a leader first hands leadership to an up-to-date follower, then exits.
            """
    )

    @Option(help: "YAML configuration file (keys: id, listen, http, data_dir, cluster, election_timeout, heartbeat_interval, max_frame_size, algorithm, peers).")
    var config: String?

    @Option(help: "This node's ID: a positive integer, unique in the cluster.")
    var id: String?

    @Option(help: "Address the peer listener binds, HOST:PORT (e.g. 127.0.0.1:7001).")
    var listen: String?

    @Option(name: .customLong("peer"), help: "Another member, ID=HOST:PORT (e.g. 2=127.0.0.1:7002). Repeat for each peer.")
    var peers: [String] = []

    @Option(help: "Address of the HTTP endpoint (/metrics, /healthz, /readyz, /leader, /status, /transfer), HOST:PORT. Omit to turn it off.")
    var http: String?

    @Option(help: "Directory for this node's durable state (term and vote). Created if missing; one node per directory.")
    var dataDir: String?

    @Option(help: "Cluster name; nodes of different clusters refuse each other (default: ballot).")
    var cluster: String?

    @Option(help: "Election timeout T, e.g. 1s; timeouts are drawn from [T, 2T) (default: 1s).")
    var electionTimeout: String?

    @Option(help: "Leader heartbeat interval, at most T/3, e.g. 100ms (default: 100ms).")
    var heartbeatInterval: String?

    @Option(help: "Largest accepted peer frame in bytes (default: 65536).")
    var maxFrameSize: String?

    @Option(help: "Election algorithm: raft (default).")
    var algorithm: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default: info).")
    var logLevel: String = "info"

    @Flag(help: "Print each leadership change and each move of this node's lease deadline as a key=value line on standard output (used by `ballot local` and `ballot faults`).")
    var events = false

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown --log-level '\(logLevel)'; use trace, debug, info, notice, warning, error or critical")
        }
        let configuration: NodeConfiguration
        do {
            configuration = try NodeConfiguration.load(configFile: config, flags: try flagSettings())
        } catch {
            CommandLineErrors.fail("ballot serve: \(error)")
        }
        var logger = Logger(label: "ballot.node\(configuration.id)")
        logger.logLevel = level
        do {
            let server = try NodeServer(configuration: configuration, logger: logger, printEvents: events)
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        } catch {
            CommandLineErrors.fail("ballot serve (node \(configuration.id)): \(error)")
        }
    }

    func flagSettings() throws -> NodeSettings {
        var settings = NodeSettings()
        let given: [(ConfigurationKey, String?)] = [
            (.id, id), (.listen, listen), (.http, http), (.dataDirectory, dataDir), (.cluster, cluster),
            (.electionTimeout, electionTimeout), (.heartbeatInterval, heartbeatInterval),
            (.maxFrameSize, maxFrameSize), (.algorithm, algorithm),
        ]
        for (key, value) in given {
            if let value { try settings.apply(flag: key, value: value) }
        }
        for peer in peers { try settings.apply(flag: .peers, value: peer) }
        return settings
    }
}

enum CommandLineErrors {
    /// Prints a precise error to standard error and exits with status 2 (bad input) without a stack trace.
    static func fail(_ message: String, code: Int32 = 2) -> Never {
        var stderr = StandardError()
        print("error: \(message)", to: &stderr)
        Foundation.exit(code)
    }
}

import Foundation

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}
