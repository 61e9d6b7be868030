import BallotSimulation
import ArgumentParser
import BallotHarness
import BallotClient
import BallotServer
import Foundation

/// `ballot faults`: the fault-injection suite on real processes, with the history checker.
struct FaultsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faults",
        abstract: "Inject faults into real `ballot serve` clusters and check the recorded history.",
        discussion: """
            Starts real clusters (each node in its own Linux network namespace when possible, else on
            127.0.0.1), injects one bounded fault at a time — SIGKILL and restart, SIGSTOP/SIGCONT longer
            than the election timeout, symmetric, asymmetric and bridge partitions, packet loss, delay,
            and intruders at a member's peer port (no credentials, a certificate from another CA, a
            certificate of another node, a replayed recorded connection) — and checks every node's
            leadership and lease lines: one leader per term, no overlapping leases, no stale leader
            after a pause, monotonic terms, durable term and vote, recovery after each heal, and that no
            frame from an unauthenticated connection was delivered. Peers use mutual TLS and a cluster
            secret unless --peer-security says otherwise. Needs root for namespaces: without them the network faults are SKIPPED, which
            fails the run unless --no-namespaces (or --kinds kill,pause) asked for it.
            Exits non-zero on any violation, on any heal without a stable leader within the bound, and
            on a run that proves nothing: no fault injected, no election after the faults began, a
            stopped leader not followed by an election, or a fault during which no probe was answered.
            See docs/reliability.md.
            """
    )

    @Option(help: "Faults to inject in total, spread over the cluster sizes.")
    var faults: Int = 40

    @Option(help: "Cluster sizes, comma-separated, e.g. 3,5.")
    var nodes: String = "3,5"

    @Option(help: "Fault kinds, comma-separated (crash,pause,partition,asymmetric,bridge,loss,delay; with --backend raft the intruders impostor,foreign-cert,wrong-identity,replay; server-kill with --backend etcd|zookeeper); default all that apply to the backend.")
    var kinds: String?

    @Option(help: "Seed of the fault schedule.")
    var seed: UInt64 = 1

    @Option(help: "Election timeout of every node.")
    var electionTimeout: String = "300ms"

    @Option(help: "Heartbeat interval of every node.")
    var heartbeatInterval: String = "50ms"

    @Option(help: "Lease cap of every Raft node (ballot serve --lease-duration); default: the longest the election timeout allows.")
    var leaseDuration: String?

    @Option(help: "The ballot binary to run as nodes (default: this executable).")
    var binary: String?

    @Flag(help: "Run every node on 127.0.0.1 and skip the network faults.")
    var noNamespaces = false

    @Option(help: "How Raft peers authenticate: tls+secret (default), tls, secret or insecure (intruders need authentication and are left out without it).")
    var peerSecurity: String = "tls+secret"

    @Flag(help: """
        Sidecar mode: every node runs `ballot run -- ballot-writer` (the writer in the directory of --binary, built \
        by `swift build --product ballot-writer`); faults hit the leading node, its sidecar or the \
        writer (--kinds crash-node,pause-node,crash-sidecar,pause-sidecar,crash-child,pause-child,partition,transfer,\
        resign); checks that no two writers ever run at once and each ran under a lease of its term.
        """)
    var sidecar = false

    @Option(help: "What elects the leader: raft (the nodes are peers), or etcd / zookeeper (a real service is started per cluster; partitions cut a node off from it, server-kill kills one of its servers).")
    var backend: String = "raft"

    @Option(help: "Servers of the etcd cluster or ZooKeeper ensemble (--backend etcd|zookeeper).")
    var servers: Int = 3

    @Option(help: "etcd lease TTL of every node (--backend etcd); it also sizes the faults, as the election timeout does for Raft.")
    var leaseTtl: String = "2s"

    @Option(help: "ZooKeeper session timeout of every node (--backend zookeeper); it also sizes the faults.")
    var sessionTimeout: String = "4s"

    func run() async throws {
        let sizes = nodes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ (3...9).contains($0) }) else {
            throw ValidationError("--nodes takes sizes from 3 to 9 (a bridge needs three nodes), e.g. 3,5")
        }
        guard (1...100_000).contains(faults) else { throw ValidationError("--faults must be between 1 and 100000") }
        let executable = binary ?? CommandLine.arguments[0]
        let resolved = executable.hasPrefix("/") ? executable
            : FileManager.default.currentDirectoryPath + "/" + executable
        var options = FaultSuite.Options(
            binary: URL(fileURLWithPath: resolved).standardizedFileURL.path,
            workDirectory: NSTemporaryDirectory() + "ballot-faults-\(getpid())")
        options.faults = faults
        options.nodeCounts = sizes
        options.seed = seed
        options.namespaces = !noNamespaces
        guard let security = PeerSecurity(rawValue: peerSecurity) else {
            throw ValidationError("--peer-security must be one of \(PeerSecurity.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        options.peerSecurity = security
        do {
            options.electionTimeout = try DurationParser.parse(electionTimeout)
            options.heartbeatInterval = try DurationParser.parse(heartbeatInterval)
            options.leaseDuration = try leaseDuration.map(DurationParser.parse)
        } catch {
            throw ValidationError("\(error)")
        }
        if sidecar {
            guard backend == "raft" else { throw ValidationError("--sidecar runs Raft nodes; leave out --backend") }
            return try await runSidecarSuite(options)
        }
        guard ["raft", "etcd", "zookeeper"].contains(backend) else { throw ValidationError("--backend must be raft, etcd or zookeeper") }
        guard (1...7).contains(servers) else { throw ValidationError("--servers must be between 1 and 7") }
        options.backend = backend
        options.servers = servers
        if backend != "raft" {
            do {
                options.validity = try DurationParser.parse(backend == "etcd" ? leaseTtl : sessionTimeout)
            } catch {
                throw ValidationError("\(error)")
            }
            // The faults are sized by the time the service takes to give up on a node.
            options.electionTimeout = options.validity
            options.bounds.recovery = UInt64(max(options.validity * 4, .seconds(10)).nanoseconds)
        }
        options.kinds = FaultKind.onRealProcesses(for: backend)
        if let kinds {
            options.kinds = try kinds.split(separator: ",").map { name in
                guard let kind = FaultKind(named: String(name)) else { throw ValidationError("unknown fault kind '\(name)'") }
                return kind
            }
        }
        let timing = switch backend {
        case "etcd": "backend etcd (\(servers) members), lease TTL \(leaseTtl)"
        case "zookeeper": "backend zookeeper (\(servers) servers), session timeout \(sessionTimeout)"
        default: "T=\(electionTimeout), heartbeat \(heartbeatInterval)"
            + (leaseDuration.map { ", lease \($0)" } ?? "") + ", peers \(peerSecurity)"
        }
        Self.say("ballot faults: seed \(seed), \(faults) faults on \(sizes.map(String.init).joined(separator: ",")) nodes, \(timing)")
        let report = try await FaultSuite.run(options) { Self.say($0) }
        Self.say("\n" + report.summary)
        // Node logs and timelines are evidence only of a violation or an unrecovered heal.
        if report.violations.isEmpty && report.unrecovered == 0 {
            try? FileManager.default.removeItem(atPath: options.workDirectory)
        } else {
            Self.say("node logs and the recorded timeline are kept under \(options.workDirectory)")
        }
        if !report.failures.isEmpty { throw ExitCode(1) }
    }

    /// Writes a line at once (unbuffered), so progress shows when the output is a pipe.
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
