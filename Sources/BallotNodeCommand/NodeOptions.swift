import ArgumentParser
import BallotServer
import Logging
import ServiceLifecycle

/// The flags of one node, and running it: shared by `ballot serve` and `ballotd`, which differ only
/// in what else their binary holds.
public struct NodeOptions: ParsableArguments {
    /// The help text both commands show after their flags.
    public static func discussion(command: String) -> String {
        """
        Example (three nodes on one machine):
          \(command) --id 1 --listen 127.0.0.1:7001 --peer 2=127.0.0.1:7002 --peer 3=127.0.0.1:7003 \\
            --http 127.0.0.1:9101 --data-dir ./data/1

        Settings can also come from a YAML file (--config); flags given on the command line override it.
        Durations take a unit: 500ms, 1s, 2m. Election timeouts are drawn from [T, 2T), T = --election-timeout.
        On SIGINT/SIGTERM a leader first hands leadership to an up-to-date follower, then exits.
        """
    }

    public init() {}

    @Option(help: "YAML configuration file (keys: id, listen, http, data_dir, cluster, election_timeout, heartbeat_interval, max_frame_size, algorithm, priority, preempt_after, advertise_http, peers).")
    public var config: String?

    @Option(help: "This node's ID: a positive integer, unique in the cluster.")
    public var id: String?

    @Option(help: "Address the peer listener binds, HOST:PORT (e.g. 127.0.0.1:7001).")
    public var listen: String?

    @Option(name: .customLong("peer"), help: "Another member, ID=HOST:PORT (e.g. 2=127.0.0.1:7002). Repeat for each peer.")
    public var peers: [String] = []

    @Option(help: "Address of the HTTP endpoint (/metrics, /healthz, /readyz, /leader, /status, /transfer), HOST:PORT. Omit to turn it off.")
    public var http: String?

    @Option(help: "Directory for this node's durable state (term and vote). Created if missing; one node per directory.")
    public var dataDir: String?

    @Option(help: "Cluster name; nodes of different clusters refuse each other (default: ballot).")
    public var cluster: String?

    @Option(help: "Election timeout T, e.g. 1s; timeouts are drawn from [T, 2T) (default: 1s).")
    public var electionTimeout: String?

    @Option(help: "Leader heartbeat interval, at most T/3, e.g. 100ms (default: 100ms).")
    public var heartbeatInterval: String?

    @Option(help: "Largest accepted peer frame in bytes (default: 65536).")
    public var maxFrameSize: String?

    @Option(help: "Election algorithm: raft (default).")
    public var algorithm: String?

    @Option(help: "Leadership priority, 0–65535 (default 0, the lowest). The leader hands over to an eligible, caught-up member of higher priority once it has been healthy for --preempt-after.")
    public var priority: String?

    @Option(help: "How long a member of higher priority must be eligible, caught up and answering (with every member answering) before the leader hands over to it; also the least time between two such hand-overs (default: 30s).")
    public var preemptAfter: String?

    @Option(help: "The URL clients and other members reach this node's HTTP endpoint at, e.g. http://10.0.0.1:9101; every member learns it, so any node can name the leader's (leader_http in GET /leader).")
    public var advertiseHttp: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default: info).")
    public var logLevel: String = "info"

    @Flag(help: "Print each leadership change and each move of this node's lease deadline as a key=value line on standard output (used by `ballot local` and `ballot faults`).")
    public var events = false

    /// Runs the node until SIGTERM/SIGINT. Bad flags or configuration, and a node that cannot
    /// start, end the process with a precise message naming `command` and exit status 2.
    public func run(as command: String) async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("unknown --log-level '\(logLevel)'; use trace, debug, info, notice, warning, error or critical")
        }
        let configuration: NodeConfiguration
        do {
            configuration = try NodeConfiguration.load(configFile: config, flags: try flagSettings())
        } catch {
            CommandLineErrors.fail("\(command): \(error)")
        }
        var logger = Logger(label: "ballot.node\(configuration.id)")
        logger.logLevel = level
        do {
            let server = try NodeServer(configuration: configuration, logger: logger, printEvents: events)
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        } catch {
            CommandLineErrors.fail("\(command) (node \(configuration.id)): \(error)")
        }
    }

    func flagSettings() throws -> NodeSettings {
        var settings = NodeSettings()
        let given: [(ConfigurationKey, String?)] = [
            (.id, id), (.listen, listen), (.http, http), (.dataDirectory, dataDir), (.cluster, cluster),
            (.electionTimeout, electionTimeout), (.heartbeatInterval, heartbeatInterval),
            (.maxFrameSize, maxFrameSize), (.algorithm, algorithm), (.priority, priority),
            (.preemptAfter, preemptAfter), (.advertiseHTTP, advertiseHttp),
        ]
        for (key, value) in given {
            if let value { try settings.apply(flag: key, value: value) }
        }
        for peer in peers { try settings.apply(flag: .peers, value: peer) }
        return settings
    }
}
