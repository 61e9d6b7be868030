import BallotCertificates
import BallotRuntime
import BallotCore
import BallotClient
import Foundation
import Glibc

/// A cluster of real `ballot serve` processes for fault injection, either on loopback (process
/// faults only) or each node in its own network namespace (``NetworkLab``), where network faults
/// are possible too. Every node's event lines, and every fault and observation, land on one
/// ``ClusterTimeline`` stamped with CLOCK_MONOTONIC.
public final class FaultCluster: @unchecked Sendable {
    public struct Settings: Sendable {
        public var nodes = 3
        public var electionTimeout: Duration = .milliseconds(300)
        public var heartbeatInterval: Duration = .milliseconds(50)
        /// `--lease-duration` of every node (`nil`: the longest the election timeout allows).
        public var leaseDuration: Duration?
        public var cluster = "faults"
        public var logLevel = "notice"
        /// How the nodes authenticate each other; credentials are made in `<data-dir>/credentials`.
        public var peerSecurity = PeerSecurity.insecure
        /// Set when the nodes serve HTTPS (their TLS flags go in `extraArguments`): the harness's own
        /// probes, and ``SidecarSet``'s `https://` addresses, trust this.
        public var httpTLS: HTTPClientTLS?
        /// More `ballot serve` flags for every node (TLS, `--http-token-file`…).
        public var extraArguments: [String] = []
        /// `raft`, or `etcd`/`zookeeper` with `backendArguments` (the service's flags, the election,
        /// the TTL or session timeout) in place of the peer and Raft timing flags.
        public var backend = "raft"
        public var backendArguments: [String] = []
        public init() {}
    }

    /// Where the nodes run.
    public enum Placement: Sendable {
        /// All on 127.0.0.1 with free ports from `peerBasePort`/`httpBasePort`.
        case loopback(peerBasePort: Int, httpBasePort: Int)
        /// One namespace per node; peers on the namespace addresses, HTTP on 127.0.0.1 inside each.
        case namespaces(NetworkLab)
    }

    public static let namespacePeerPort = 7000
    public static let namespaceHTTPPort = 9100

    public let settings: Settings
    public let placement: Placement
    /// The coordination service the nodes are elected through, for a backend cluster.
    public let service: CoordinationService?
    /// The lab member (namespace and address) the service runs in, under network namespaces.
    public let serviceNode: UInt64?
    public let timeline: ClusterTimeline
    public let dataDirectory: String
    public private(set) var nodes: [NodeProcess] = []
    /// The cluster's CA, node certificates and secret, when its peers authenticate.
    public let credentials: ClusterCredentials?

    public init(settings: Settings, placement: Placement, binary: String, dataDirectory: String,
                timeline: ClusterTimeline = ClusterTimeline(), service: CoordinationService? = nil,
                serviceNode: UInt64? = nil) {
        self.settings = settings
        self.placement = placement
        self.service = service
        self.serviceNode = serviceNode
        self.timeline = timeline
        self.dataDirectory = dataDirectory
        let credentials = settings.peerSecurity.credentials(in: "\(dataDirectory)/credentials", cluster: settings.cluster)
        self.credentials = credentials
        let ids = (1...UInt64(settings.nodes)).map { NodeID($0)! }
        for id in ids {
            let index = Int(id.rawValue) - 1
            let (listen, http, executable, prefix): (String, String, String, [String])
            var peers: [String] = []
            switch placement {
            case .loopback(let peerBase, let httpBase):
                listen = "127.0.0.1:\(peerBase + index)"
                http = "127.0.0.1:\(httpBase + index)"
                executable = binary
                prefix = []
                for peer in ids where peer != id { peers += ["--peer", "\(peer)=127.0.0.1:\(peerBase + Int(peer.rawValue) - 1)"] }
            case .namespaces(let lab):
                listen = "\(lab.address(of: id.rawValue)):\(Self.namespacePeerPort)"
                http = "127.0.0.1:\(Self.namespaceHTTPPort)"
                executable = Subprocess.locate("ip") ?? "/usr/sbin/ip"
                prefix = ["netns", "exec", lab.namespace(of: id.rawValue), binary]
                for peer in ids where peer != id {
                    peers += ["--peer", "\(peer)=\(lab.address(of: peer.rawValue)):\(Self.namespacePeerPort)"]
                }
            }
            var arguments = prefix + [
                "serve", "--id", "\(id)", "--http", http, "--data-dir", "\(dataDirectory)/node\(id)",
                "--cluster", settings.cluster, "--log-level", settings.logLevel, "--events",
            ]
            if settings.backend == "raft" {
                arguments += [
                    "--listen", listen, "--election-timeout", "\(Int(settings.electionTimeout.milliseconds))ms",
                    "--heartbeat-interval", "\(Int(settings.heartbeatInterval.milliseconds))ms",
                ] + peers + (credentials?.nodeArguments(
                    for: id, tls: settings.peerSecurity.usesTLS, secret: settings.peerSecurity.usesSecret) ?? [])
                if let lease = settings.leaseDuration { arguments += ["--lease-duration", "\(Int(lease.milliseconds))ms"] }
                // Off loopback a node refuses to start unauthenticated unless told the network is
                // trusted — here it is: namespaces this process created.
                if settings.peerSecurity == .insecure, case .namespaces = placement {
                    arguments.append("--insecure-peers")
                }
            } else {
                arguments += ["--backend", settings.backend] + settings.backendArguments
            }
            arguments += settings.extraArguments
            let httpPort = Int(http.split(separator: ":").last!)!
            let peerPort = Int(listen.split(separator: ":").last!)!
            let timeline = self.timeline
            nodes.append(NodeProcess(id: id, binary: executable, arguments: arguments, peerPort: peerPort,
                                     httpPort: httpPort, dataDirectory: "\(dataDirectory)/node\(id)") { _, line in
                timeline.ingest(line: line)
            })
        }
    }

    public var ids: [UInt64] { nodes.map(\.id.rawValue) }
    public func node(_ id: UInt64) -> NodeProcess { nodes[Int(id) - 1] }
    public var lab: NetworkLab? {
        if case .namespaces(let lab) = placement { return lab }
        return nil
    }

    // MARK: Processes

    public func startAll() throws {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        try PeerSecurity.prepare(credentials, nodes: nodes.map(\.id), security: settings.peerSecurity)
        for node in nodes { try start(node.id.rawValue) }
    }

    public func start(_ id: UInt64) throws {
        try node(id).start()
        timeline.append(.started(node: id, at: SystemMonotonicClock.now.nanoseconds))
    }

    /// SIGKILL, then waits (bounded) until the process is gone.
    public func kill(_ id: UInt64) async {
        node(id).signal(SIGKILL)
        timeline.append(.killed(node: id, at: SystemMonotonicClock.now.nanoseconds))
        await node(id).waitForExit(timeout: .seconds(5))
    }

    public func pause(_ id: UInt64) {
        node(id).signal(SIGSTOP)
        timeline.append(.paused(node: id, at: SystemMonotonicClock.now.nanoseconds))
    }

    public func resume(_ id: UInt64) {
        timeline.append(.resumed(node: id, at: SystemMonotonicClock.now.nanoseconds))
        node(id).signal(SIGCONT)
    }

    public func stopAll() async {
        await withTaskGroup(of: Void.self) { group in
            for node in nodes { group.addTask { await node.stop(grace: .seconds(3)) } }
        }
    }

    // MARK: Observing

    /// One HTTP GET on a node's endpoint: directly on loopback, or from a socket made inside its namespace.
    public func get(_ id: UInt64, _ path: String, timeout: Duration = .seconds(1)) async -> (status: Int, body: String)? {
        let node = self.node(id)
        guard node.isRunning else { return nil }
        switch placement {
        case .loopback:
            guard let address = try? SocketAddressSpec(validatingHost: "127.0.0.1", port: node.httpPort),
                  let response = try? await HTTPClient.request(.GET, HTTPTarget(address: address, tls: settings.httpTLS),
                                                               path: path, timeout: timeout)
            else { return nil }
            return (response.status, response.text)
        case .namespaces(let lab):
            return await NamespaceHTTP.get(namespace: lab.namespace(of: id), port: node.httpPort, path: path, timeout: timeout)
        }
    }

    /// `GET /leader`, recorded as a probe.
    @discardableResult
    public func probeLeader(_ id: UInt64, timeout: Duration = .seconds(1)) async -> LeaderView? {
        let sent = SystemMonotonicClock.now.nanoseconds
        guard let (status, body) = await get(id, "/leader", timeout: timeout), status == 200,
              let view = try? JSONDecoder().decode(LeaderView.self, from: Data(body.utf8))
        else { return nil }
        timeline.append(.probe(node: id, source: "leader", isLeader: view.isLeader, term: view.term, sent: sent,
                               received: SystemMonotonicClock.now.nanoseconds))
        return view
    }

    /// `ballot_is_leader` from `GET /metrics`, recorded as a probe.
    @discardableResult
    public func probeMetrics(_ id: UInt64, timeout: Duration = .seconds(1)) async -> Bool? {
        let sent = SystemMonotonicClock.now.nanoseconds
        guard let (status, body) = await get(id, "/metrics", timeout: timeout), status == 200,
              let line = body.split(separator: "\n").first(where: { $0.hasPrefix("ballot_is_leader ") }),
              let value = Double(line.split(separator: " ").last ?? "")
        else { return nil }
        timeline.append(.probe(node: id, source: "metrics", isLeader: value == 1, term: nil, sent: sent,
                               received: SystemMonotonicClock.now.nanoseconds))
        return value == 1
    }

    /// `GET /status` (term and vote), recorded.
    @discardableResult
    public func probeStatus(_ id: UInt64, timeout: Duration = .seconds(1)) async -> NodeStatusReport? {
        let sent = SystemMonotonicClock.now.nanoseconds
        guard let (status, body) = await get(id, "/status", timeout: timeout), status == 200 else { return nil }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        guard let report = try? decoder.decode(NodeStatusReport.self, from: Data(body.utf8)) else { return nil }
        timeline.append(.status(node: id, term: report.term, votedFor: report.votedFor, sent: sent,
                                received: SystemMonotonicClock.now.nanoseconds))
        return report
    }

    /// Polls until every running node answers and all name the same leader, which itself reports a
    /// valid lease; returns it, or nil after `timeout`.
    public func waitForStableLeader(timeout: Duration, poll: Duration = .milliseconds(30)) async -> LeaderView? {
        var unsettled: String?
        return await waitForStableLeader(timeout: timeout, poll: poll, lastUnsettled: &unsettled)
    }

    /// The same, saying in `lastUnsettled` what the last poll that found no stable leader saw
    /// (each node's answer, or which did not answer), for a slow recovery's report.
    public func waitForStableLeader(timeout: Duration, poll: Duration = .milliseconds(30),
                                    lastUnsettled: inout String?) async -> LeaderView? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let running = nodes.filter(\.isRunning).map(\.id.rawValue)
            var views: [LeaderView] = []
            var silent: UInt64?
            for id in running {
                guard let view = await probeLeader(id) else {
                    silent = id
                    break
                }
                views.append(view)
            }
            if views.count == running.count, let leader = views.first(where: \.isLeader),
               views.allSatisfy({ $0.leader == leader.self_ && $0.term == leader.term })
            {
                return leader
            }
            lastUnsettled = views.map { view in
                "node \(view.self_): leader \(view.leader.map(String.init) ?? "-") term \(view.term)\(view.isLeader ? " (leads)" : "")"
            }.joined(separator: "; ") + (silent.map { "; node \($0): no answer" } ?? "")
            try? await Task.sleep(for: poll)
        }
        return nil
    }

    /// What each node wrote to standard error, its last `limit` characters.
    public func logs(limit: Int = 2000) -> String {
        nodes.map { "--- node \($0.id) ---\n\($0.log.suffix(limit))" }.joined(separator: "\n")
    }
}
