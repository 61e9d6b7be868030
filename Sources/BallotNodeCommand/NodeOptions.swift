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

        Peers prove who they are with mutual TLS (--peer-tls-cert/--peer-tls-key/--peer-tls-ca; `ballot certs`
        makes a CA and node certificates) and/or a cluster secret (--cluster-secret-file). A node whose --listen
        is not a loopback address refuses to start without either, unless --insecure-peers. SIGHUP re-reads
        the certificates, the CA and the secrets (docs/security.md).

        Settings can also come from a YAML file (--config); flags given on the command line override it.
        Durations take a unit: 500ms, 1s, 2m. Election timeouts are drawn from [T, 2T), T = --election-timeout.
        On SIGINT/SIGTERM a leader first hands leadership to an up-to-date follower, then exits.
        """
    }

    public init() {}

    @Option(help: "YAML configuration file (keys: id, listen, http, data_dir, cluster, election_timeout, heartbeat_interval, max_frame_size, algorithm, peers, peer_tls_cert, peer_tls_key, peer_tls_ca, cluster_secret_file, cluster_secret_also_accept, insecure_peers, peer_handshake_timeout, peer_max_pending_handshakes).")
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

    @Option(name: .customLong("peer-tls-cert"), help: "This node's peer TLS certificate (PEM) with the URI SAN ballot://<cluster>/<id>; needs --peer-tls-key and --peer-tls-ca.")
    public var peerTLSCert: String?

    @Option(name: .customLong("peer-tls-key"), help: "The private key (PEM) of --peer-tls-cert.")
    public var peerTLSKey: String?

    @Option(name: .customLong("peer-tls-ca"), help: "The CA certificate(s) (PEM) every peer's certificate must chain to. Turns on mutual TLS 1.3 with --peer-tls-cert/--peer-tls-key.")
    public var peerTLSCA: String?

    @Option(help: "A file of 32–1024 secret bytes shared by every member (mode 0600), e.g. from `openssl rand -out cluster.secret 32`: peers must prove they know it.")
    public var clusterSecretFile: String?

    @Option(name: .customLong("cluster-secret-also-accept"), help: "Another secret file whose proofs are accepted too, while rotating the secret. Repeatable.")
    public var clusterSecretAlsoAccept: [String] = []

    @Flag(help: "Allow a --listen address off loopback without TLS or a cluster secret (anyone who reaches the port can take part in elections).")
    public var insecurePeers = false

    @Option(help: "Close a peer connection that has not completed its handshake after this long (default: 5s).")
    public var peerHandshakeTimeout: String?

    @Option(help: "At most this many accepted peer connections may be handshaking at once; more are closed at once (default: 64).")
    public var peerMaxPendingHandshakes: String?

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
            let server = try await NodeServer(configuration: configuration, logger: logger, printEvents: events)
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
            (.maxFrameSize, maxFrameSize), (.algorithm, algorithm),
            (.peerTLSCertificate, peerTLSCert), (.peerTLSKey, peerTLSKey), (.peerTLSCA, peerTLSCA),
            (.clusterSecretFile, clusterSecretFile), (.peerHandshakeTimeout, peerHandshakeTimeout),
            (.peerMaxPendingHandshakes, peerMaxPendingHandshakes), (.insecurePeers, insecurePeers ? "true" : nil),
        ]
        for (key, value) in given {
            if let value { try settings.apply(flag: key, value: value) }
        }
        for peer in peers { try settings.apply(flag: .peers, value: peer) }
        for file in clusterSecretAlsoAccept { try settings.apply(flag: .clusterSecretAlsoAccept, value: file) }
        return settings
    }
}
