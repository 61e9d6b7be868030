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

    @Option(help: "YAML configuration file (keys: the flags' names with _ for -, e.g. election_timeout, http_tls_cert; see docs/configuration.md).")
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

    @Option(help: "Second HTTP listener, HOST:PORT, the only one serving routes that change the node (POST /transfer), e.g. on loopback while --http is exposed.")
    public var adminHttp: String?

    @Option(help: "Close an HTTP connection that waits this long for its next request (default: 60s).")
    public var httpIdleTimeout: String?

    @Option(help: "A request must arrive whole within this long of its first byte; a new connection's first request within this long of connecting (default: 10s).")
    public var httpRequestTimeout: String?

    @Option(help: "Largest HTTP request head in bytes; larger ones get 431 (default: 16384).")
    public var httpMaxHeadSize: String?

    @Option(help: "Open HTTP connections per listener; above it the longest-idle one is closed, or the new one gets 503 (default: 1024).")
    public var httpMaxConnections: String?

    @Option(help: "Concurrent streams per HTTP/2 connection (default: 100).")
    public var httpMaxStreams: String?

    @Option(help: "PEM certificate (chain) for HTTPS; with --http-tls-key, both listeners speak TLS, offering h2 and http/1.1.")
    public var httpTlsCert: String?

    @Option(help: "PEM private key of --http-tls-cert.")
    public var httpTlsKey: String?

    @Option(help: "PEM CA: client certificates are verified against it, and a verified one may change the node.")
    public var httpTlsClientCa: String?

    @Option(help: "File holding the bearer token that routes changing the node require (Authorization: Bearer <token>); not readable by every user.")
    public var httpTokenFile: String?

    @Flag(inversion: .prefixedNo, help: "Require the token or a client certificate for reads too (default: reads are open).")
    public var httpAuthReads: Bool?

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
            (.maxFrameSize, maxFrameSize), (.algorithm, algorithm), (.adminHTTP, adminHttp),
            (.httpIdleTimeout, httpIdleTimeout), (.httpRequestTimeout, httpRequestTimeout),
            (.httpMaxHeadSize, httpMaxHeadSize), (.httpMaxConnections, httpMaxConnections),
            (.httpMaxStreams, httpMaxStreams), (.httpTLSCert, httpTlsCert), (.httpTLSKey, httpTlsKey),
            (.httpTLSClientCA, httpTlsClientCa), (.httpTokenFile, httpTokenFile),
            (.httpAuthReads, httpAuthReads.map { $0 ? "true" : "false" }),
        ]
        for (key, value) in given {
            if let value { try settings.apply(flag: key, value: value) }
        }
        for peer in peers { try settings.apply(flag: .peers, value: peer) }
        return settings
    }
}
