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

        Elected through etcd or ZooKeeper instead of Ballot's own peers (no --listen, no --peer):
          \(command) --backend etcd --etcd-endpoints http://127.0.0.1:2379 --election orders --id 1 \\
            --http 127.0.0.1:9101 --data-dir ./data/1
          \(command) --backend zookeeper --zookeeper 127.0.0.1:2181 --election orders --id 1 \\
            --http 127.0.0.1:9101 --data-dir ./data/1

        Settings can also come from a YAML file (--config); flags given on the command line override it.
        Durations take a unit: 500ms, 1s, 2m. Election timeouts are drawn from [T, 2T), T = --election-timeout.
        On SIGINT/SIGTERM a leader first hands leadership to an up-to-date follower, then exits.
        """
    }

    public init() {}

    @Option(help: "YAML configuration file (keys: id, listen, http, data_dir, cluster, election_timeout, heartbeat_interval, max_frame_size, algorithm, peers; backend, election, etcd_endpoints, lease_ttl, etcd_credentials_file, etcd_ca_file, etcd_cert_file, etcd_key_file, zookeeper, session_timeout, zookeeper_follower_lag).")
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

    @Option(help: "What elects the leader: raft (Ballot's own peers, default), etcd or zookeeper. With etcd or zookeeper there are no peers: --listen and --peer are refused.")
    public var backend: String?

    @Option(help: "The election's name on etcd or ZooKeeper; several elections can share one cluster (default: ballot).")
    public var election: String?

    @Option(help: "etcd client URLs, URL[,URL…], e.g. http://127.0.0.1:2379 or https://etcd-1:2379 (--backend etcd).")
    public var etcdEndpoints: String?

    @Option(help: "etcd lease TTL, whole seconds, e.g. 5s; kept alive every TTL/3 (default: 5s).")
    public var leaseTtl: String?

    @Option(help: "File holding the etcd user and password as one line USER:PASSWORD (never logged or shown).")
    public var etcdCredentialsFile: String?

    @Option(help: "PEM file of the CA that signed the etcd members' certificates (https:// endpoints; default: the system's).")
    public var etcdCaFile: String?

    @Option(help: "PEM client certificate for etcd, when it requires one (with --etcd-key-file).")
    public var etcdCertFile: String?

    @Option(help: "PEM private key of --etcd-cert-file.")
    public var etcdKeyFile: String?

    @Option(help: "ZooKeeper servers, HOST:PORT[,HOST:PORT…] (--backend zookeeper).")
    public var zookeeper: String?

    @Option(help: "ZooKeeper session timeout asked for, e.g. 4s (default: 4s).")
    public var sessionTimeout: String?

    @Option(help: "How long a ZooKeeper follower cut off from its leader may go on answering: the ensemble's syncLimit × tickTime + tickTime/2; 0s for a standalone server (default: 2.1s, syncLimit 10 × tickTime 200ms + 100ms).")
    public var zookeeperFollowerLag: String?

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
            (.maxFrameSize, maxFrameSize), (.algorithm, algorithm), (.backend, backend), (.election, election),
            (.etcdEndpoints, etcdEndpoints), (.leaseTTL, leaseTtl), (.etcdCredentialsFile, etcdCredentialsFile),
            (.etcdCAFile, etcdCaFile), (.etcdCertFile, etcdCertFile), (.etcdKeyFile, etcdKeyFile),
            (.zookeeper, zookeeper), (.sessionTimeout, sessionTimeout), (.zookeeperFollowerLag, zookeeperFollowerLag),
        ]
        for (key, value) in given {
            if let value { try settings.apply(flag: key, value: value) }
        }
        for peer in peers { try settings.apply(flag: .peers, value: peer) }
        return settings
    }
}
