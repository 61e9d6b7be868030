import ArgumentParser
import BallotServer
import Foundation
import Logging
import ServiceLifecycle

/// The flags of one node, and running it: shared by `ballot serve` and `ballotd`, which differ only
/// in what else their binary holds and in which algorithms they offer (``NodeProgram``).
///
/// Each flag is one line here; its name, help, default and environment variable come from the
/// settings catalogue (``ConfigurationKey/descriptor``), and ``flagSettings(algorithm:)`` hands its
/// text to the same parser the environment and the file use. `NodeOptionsTests` proves that every
/// setting the catalogue offers as a flag is declared and reaches the settings.
public struct NodeOptions: ParsableArguments {
    /// The help text both commands show after their flags.
    public static func discussion(command: String) -> String {
        """
        Example (three nodes on one machine):
          \(command) --id 1 --listen 127.0.0.1:7001 --peer 2=127.0.0.1:7002 --peer 3=127.0.0.1:7003 --http 127.0.0.1:9101 --data-dir ./data/1

        Elected through etcd or ZooKeeper instead of Ballot's own peers (no --listen, no --peer):
          \(command) --backend etcd --etcd-endpoints http://127.0.0.1:2379 --election orders --id 1 --http 127.0.0.1:9101 --data-dir ./data/1
          \(command) --backend zookeeper --zookeeper 127.0.0.1:2181 --election orders --id 1 --http 127.0.0.1:9101 --data-dir ./data/1

        Every setting can also come from an environment variable (BALLOT_ and the YAML key in capitals: BALLOT_ELECTION_TIMEOUT=1s, BALLOT_PEERS=2=h:7002,3=h:7003) and from a YAML file (--config). Precedence: flag > environment > file > default. --print-config shows the effective values and where each came from.

        Peers prove who they are with mutual TLS (--peer-tls-cert/--peer-tls-key/--peer-tls-ca; `ballot certs` makes a CA and node certificates) and/or a cluster secret (--cluster-secret-file). A node whose --listen is not a loopback address refuses to start without either, unless --insecure-peers. SIGHUP re-reads the certificates, the CA and the secrets (docs/security.md).

        Durations take a unit: 500ms, 1s, 2m. Election timeouts are drawn from [T, 2T), T = --election-timeout. On SIGINT/SIGTERM a leader first hands leadership to an up-to-date follower, then exits.

        Exit status: 0 after a clean shutdown, \(ExitStatus.configuration.rawValue) for a configuration error, \(ExitStatus.usage.rawValue) for a malformed command line, \(ExitStatus.failure.rawValue) when the node cannot run.
        """
    }

    public init() {}

    @Option(help: .setting(.config)) public var config: String?
    @Option(help: .setting(.id)) public var id: String?
    @Flag(inversion: .prefixedNo, help: .setting(.idFromHostname)) public var idFromHostname: Bool?
    @Option(help: .setting(.listen)) public var listen: String?
    @Option(name: .customLong("peer"), help: .setting(.peers)) public var peers: [String] = []
    @Option(help: .setting(.members)) public var members: String?
    @Option(help: .setting(.peerAddressTemplate)) public var peerAddressTemplate: String?
    @Option(help: .setting(.http)) public var http: String?
    @Option(help: .setting(.priority)) public var priority: String?
    @Option(help: .setting(.preemptAfter)) public var preemptAfter: String?
    @Option(help: .setting(.advertiseHTTP)) public var advertiseHttp: String?
    @Option(help: .setting(.resignHoldOff)) public var resignHoldOff: String?
    @Option(help: .setting(.leaseRelease)) public var leaseRelease: String?
    @Option(help: .setting(.leaseDuration)) public var leaseDuration: String?
    @Option(help: .setting(.dataDirectory)) public var dataDir: String?
    @Option(help: .setting(.cluster)) public var cluster: String?
    @Option(help: .setting(.electionTimeout)) public var electionTimeout: String?
    @Option(help: .setting(.heartbeatInterval)) public var heartbeatInterval: String?
    @Option(help: .setting(.maxFrameSize)) public var maxFrameSize: String?
    @Option(help: .setting(.backend)) public var backend: String?
    @Option(help: .setting(.election)) public var election: String?
    @Option(help: .setting(.etcdEndpoints)) public var etcdEndpoints: String?
    @Option(help: .setting(.leaseTTL)) public var leaseTtl: String?
    @Option(help: .setting(.etcdCredentialsFile)) public var etcdCredentialsFile: String?
    @Option(help: .setting(.etcdCAFile)) public var etcdCaFile: String?
    @Option(help: .setting(.etcdCertFile)) public var etcdCertFile: String?
    @Option(help: .setting(.etcdKeyFile)) public var etcdKeyFile: String?
    @Option(help: .setting(.zookeeper)) public var zookeeper: String?
    @Option(help: .setting(.sessionTimeout)) public var sessionTimeout: String?
    @Option(help: .setting(.zookeeperFollowerLag)) public var zookeeperFollowerLag: String?
    @Option(help: .setting(.logLevel)) public var logLevel: String?
    @Option(help: .setting(.logFormat)) public var logFormat: String?
    @Flag(inversion: .prefixedNo, help: .setting(.events)) public var events: Bool?
    @Option(help: .setting(.peerTLSCertificate)) public var peerTlsCert: String?
    @Option(help: .setting(.peerTLSKey)) public var peerTlsKey: String?
    @Option(help: .setting(.peerTLSCA)) public var peerTlsCa: String?
    @Option(help: .setting(.clusterSecretFile)) public var clusterSecretFile: String?
    @Option(help: .setting(.clusterSecretAlsoAccept)) public var clusterSecretAlsoAccept: [String] = []
    @Flag(inversion: .prefixedNo, help: .setting(.insecurePeers)) public var insecurePeers: Bool?
    @Option(help: .setting(.peerHandshakeTimeout)) public var peerHandshakeTimeout: String?
    @Option(help: .setting(.peerMaxPendingHandshakes)) public var peerMaxPendingHandshakes: String?
    @Option(help: .setting(.adminHTTP)) public var adminHttp: String?
    @Option(help: .setting(.httpIdleTimeout)) public var httpIdleTimeout: String?
    @Option(help: .setting(.httpRequestTimeout)) public var httpRequestTimeout: String?
    @Option(help: .setting(.httpMaxHeadSize)) public var httpMaxHeadSize: String?
    @Option(help: .setting(.httpMaxConnections)) public var httpMaxConnections: String?
    @Option(help: .setting(.httpMaxStreams)) public var httpMaxStreams: String?
    @Option(help: .setting(.httpTLSCert)) public var httpTlsCert: String?
    @Option(help: .setting(.httpTLSKey)) public var httpTlsKey: String?
    @Option(help: .setting(.httpTLSClientCA)) public var httpTlsClientCa: String?
    @Option(help: .setting(.httpTokenFile)) public var httpTokenFile: String?
    @Flag(inversion: .prefixedNo, help: .setting(.httpAuthReads)) public var httpAuthReads: Bool?

    @Flag(help: "Print the effective configuration, and where each value came from (flag, environment variable, file or default), then exit. Secrets are redacted.")
    public var printConfig = false

    /// Every flag given, as settings. `algorithm` is the `--algorithm` of `ballot serve` (ballotd has none).
    public func flagSettings(algorithm: String? = nil) throws(ConfigurationError) -> NodeSettings {
        var settings = NodeSettings()
        let given: [(ConfigurationKey, [String])] = [
            (.config, config.list), (.id, id.list), (.idFromHostname, idFromHostname.list), (.listen, listen.list),
            (.peers, peers), (.members, members.list), (.peerAddressTemplate, peerAddressTemplate.list),
            (.http, http.list), (.dataDirectory, dataDir.list), (.cluster, cluster.list),
            (.electionTimeout, electionTimeout.list), (.heartbeatInterval, heartbeatInterval.list),
            (.maxFrameSize, maxFrameSize.list), (.algorithm, algorithm.list), (.logLevel, logLevel.list),
            (.backend, backend.list), (.election, election.list), (.etcdEndpoints, etcdEndpoints.list),
            (.leaseTTL, leaseTtl.list), (.etcdCredentialsFile, etcdCredentialsFile.list), (.etcdCAFile, etcdCaFile.list),
            (.etcdCertFile, etcdCertFile.list), (.etcdKeyFile, etcdKeyFile.list), (.zookeeper, zookeeper.list),
            (.sessionTimeout, sessionTimeout.list), (.zookeeperFollowerLag, zookeeperFollowerLag.list),
            (.logFormat, logFormat.list), (.events, events.list),
            (.peerTLSCertificate, peerTlsCert.list), (.peerTLSKey, peerTlsKey.list), (.peerTLSCA, peerTlsCa.list),
            (.clusterSecretFile, clusterSecretFile.list), (.clusterSecretAlsoAccept, clusterSecretAlsoAccept),
            (.insecurePeers, insecurePeers.list), (.peerHandshakeTimeout, peerHandshakeTimeout.list),
            (.peerMaxPendingHandshakes, peerMaxPendingHandshakes.list), (.adminHTTP, adminHttp.list),
            (.httpIdleTimeout, httpIdleTimeout.list), (.httpRequestTimeout, httpRequestTimeout.list),
            (.httpMaxHeadSize, httpMaxHeadSize.list), (.httpMaxConnections, httpMaxConnections.list),
            (.httpMaxStreams, httpMaxStreams.list), (.httpTLSCert, httpTlsCert.list), (.httpTLSKey, httpTlsKey.list),
            (.httpTLSClientCA, httpTlsClientCa.list), (.httpTokenFile, httpTokenFile.list),
            (.httpAuthReads, httpAuthReads.list), (.priority, priority.list), (.preemptAfter, preemptAfter.list),
            (.advertiseHTTP, advertiseHttp.list), (.resignHoldOff, resignHoldOff.list),
            (.leaseRelease, leaseRelease.list), (.leaseDuration, leaseDuration.list),
        ]
        for (key, values) in given {
            for value in values { try settings.apply(flag: key, value: value) }
        }
        return settings
    }

    /// Runs the node until SIGTERM/SIGINT, or prints its configuration with `--print-config`.
    /// Configuration errors end the process with one line naming `program` and where the bad value
    /// came from, and exit status 78; a node that cannot run ends with status 1.
    public func run(as program: NodeProgram, algorithm: String? = nil) async throws {
        let environment = ProcessInfo.processInfo.environment
        let layers: ConfigurationLayers
        do throws(ConfigurationError) {
            layers = try ConfigurationLayers(program: program, flags: flagSettings(algorithm: algorithm), environment: environment)
        } catch {
            CommandLineErrors.fail("\(program.name): \(error)", status: .configuration,
                                   format: Self.bestEffortLogFormat(flags: logFormat, environment: environment))
        }
        if printConfig {
            let (text, error) = layers.printout()
            FileHandle.standardOutput.write(Data(text.utf8))
            if let error { CommandLineErrors.fail("\(program.name): \(error)", status: .configuration) }
            return
        }
        let configuration: NodeConfiguration
        do throws(ConfigurationError) {
            configuration = try layers.load()
        } catch {
            CommandLineErrors.fail("\(program.name): \(error)", status: .configuration,
                                   format: layers.merged.logFormat ?? NodeConfiguration.defaultLogFormat)
        }
        let logger = BallotLogHandler.logger(
            format: configuration.logFormat, level: configuration.logLevel, node: "\(configuration.id)")
        for warning in layers.warnings {
            logger.warning("\(warning)", metadata: ["event": "configuration_warning"])
        }
        do {
            let server = try await NodeServer(configuration: configuration, logger: logger)
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: server)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        } catch let error as PeerTrustError {
            // Unusable credential files are configuration: restarting cannot fix them.
            CommandLineErrors.fail("\(program.name) (node \(configuration.id)): \(error)", status: .configuration,
                                   format: configuration.logFormat)
        } catch {
            CommandLineErrors.fail("\(program.name) (node \(configuration.id)): \(error)", status: .failure,
                                   format: configuration.logFormat)
        }
    }

    /// The log format for an error met before the configuration could be read: the flag's, else
    /// the environment's, if either parses.
    static func bestEffortLogFormat(flags: String?, environment: [String: String]) -> LogFormat {
        (flags ?? environment[ConfigurationKey.logFormat.environmentVariable]).flatMap(LogFormat.init(rawValue:))
            ?? NodeConfiguration.defaultLogFormat
    }
}

extension ArgumentHelp {
    /// A flag's help from the settings catalogue: its text, environment variable and default.
    public static func setting(_ key: ConfigurationKey) -> ArgumentHelp {
        let descriptor = key.descriptor
        var notes: [String] = []
        if let variable = descriptor.environmentVariable { notes.append("env: \(variable)") }
        if let defaultText = descriptor.defaultText { notes.append("default: \(defaultText)") }
        let text = descriptor.helpWithScope + (notes.isEmpty ? "" : " (\(notes.joined(separator: "; ")))")
        return ArgumentHelp(text, valueName: descriptor.isBoolean ? nil : descriptor.valueName.lowercased())
    }
}

extension Optional where Wrapped == String {
    fileprivate var list: [String] { map { [$0] } ?? [] }
}

extension Optional where Wrapped == Bool {
    fileprivate var list: [String] { map { [$0 ? "true" : "false"] } ?? [] }
}
