import BallotClient
import Foundation

/// A real coordination service for Ballot nodes run with `--backend etcd|zookeeper`: an etcd cluster
/// or a ZooKeeper ensemble started for a benchmark or a test, with the flags that point nodes at it
/// and the traffic counters it keeps (for "messages per election" and the idle cost).
public enum CoordinationService: Sendable {
    case etcd(EtcdCluster)
    case zookeeper(ZooKeeperEnsemble)

    /// Starts `servers` members of the service `backend` names (`etcd` or `zookeeper`).
    public static func start(_ backend: String, servers: Int) async throws -> CoordinationService {
        switch backend {
        case "etcd": return .etcd(try await EtcdCluster.start(members: servers))
        case "zookeeper": return .zookeeper(try await ZooKeeperEnsemble.start(servers: servers))
        default: throw EtcdHarnessError("no coordination service for backend \(backend); use etcd or zookeeper")
        }
    }

    /// The flags that make a node use this service (besides `--backend` and its timing).
    public var nodeArguments: [String] {
        switch self {
        case .etcd(let cluster):
            return ["--etcd-endpoints", cluster.endpoints]
        case .zookeeper(let ensemble):
            // A follower cut off from its leader answers for up to syncLimit × tickTime, plus the half
            // tick its touches wait for; a standalone server has no followers.
            let lag = ensemble.servers.count == 1
                ? Duration.zero : ensemble.settings.tickTime * ensemble.settings.syncLimit + ensemble.settings.tickTime / 2
            return ["--zookeeper", ensemble.connectString, "--zookeeper-follower-lag", lag == .zero ? "0s" : "\(Int(lag.milliseconds))ms"]
        }
    }

    public var serverCount: Int {
        switch self {
        case .etcd(let cluster): cluster.members.count
        case .zookeeper(let ensemble): ensemble.servers.count
        }
    }

    public func stop() async {
        switch self {
        case .etcd(let cluster): await cluster.stop()
        case .zookeeper(let ensemble): await ensemble.stop()
        }
    }

    /// What the servers counted so far, summed over the running ones: client messages received and
    /// sent (etcd: gRPC messages, unary calls included; ZooKeeper: packets) and bytes received from
    /// clients (etcd: gRPC bytes; ZooKeeper: `zk_bytes_received_count`).
    public func traffic() async -> CoordinationTraffic {
        var total = CoordinationTraffic()
        switch self {
        case .etcd(let cluster):
            for member in cluster.members where member.isRunning && member.namespace == nil {
                guard let scrape = try? await HTTPClient.request(.GET, host: member.host, port: member.clientPort,
                                                                 path: "/metrics", timeout: .seconds(2))
                else { continue }
                for line in scrape.text.split(separator: "\n") where !line.hasPrefix("#") {
                    let parts = line.split(separator: " ")
                    guard parts.count == 2, let value = Double(parts[1]) else { continue }
                    let name = parts[0].split(separator: "{").first ?? ""
                    switch name {
                    case "grpc_server_msg_received_total": total.messagesReceived += value
                    case "grpc_server_msg_sent_total": total.messagesSent += value
                    case "etcd_network_client_grpc_received_bytes_total": total.bytesReceived += value
                    case "etcd_network_client_grpc_sent_bytes_total": total.bytesSent += value
                    default: break
                    }
                }
            }
        case .zookeeper(let ensemble):
            for server in ensemble.servers where server.isRunning {
                guard let answer = server.fourLetterWord("mntr") else { continue }
                for line in answer.split(separator: "\n") {
                    let parts = line.split(separator: "\t")
                    guard parts.count == 2, let value = Double(parts[1]) else { continue }
                    switch parts[0] {
                    case "zk_packets_received": total.messagesReceived += value
                    case "zk_packets_sent": total.messagesSent += value
                    case "zk_bytes_received_count": total.bytesReceived += value
                    default: break
                    }
                }
            }
        }
        return total
    }
}

/// Cumulative client traffic counters of a coordination service.
public struct CoordinationTraffic: Sendable {
    public var messagesReceived = 0.0
    public var messagesSent = 0.0
    public var bytesReceived = 0.0
    public var bytesSent = 0.0
    public init() {}

    public var messages: Double { messagesReceived + messagesSent }

    public static func - (a: CoordinationTraffic, b: CoordinationTraffic) -> CoordinationTraffic {
        var difference = CoordinationTraffic()
        difference.messagesReceived = a.messagesReceived - b.messagesReceived
        difference.messagesSent = a.messagesSent - b.messagesSent
        difference.bytesReceived = a.bytesReceived - b.bytesReceived
        difference.bytesSent = a.bytesSent - b.bytesSent
        return difference
    }
}

extension CoordinationService {
    /// Starts `servers` members of `backend`'s service inside network namespace `namespace`, on
    /// `host`, for the fault suite (nodes in other namespaces reach it over the lab's bridge).
    public static func start(_ backend: String, servers: Int, namespace: String, host: String) async throws -> CoordinationService {
        switch backend {
        case "etcd":
            var settings = EtcdCluster.Settings()
            settings.namespace = namespace
            settings.host = host
            settings.basePort = 2379
            return .etcd(try await EtcdCluster.start(members: servers, settings: settings))
        case "zookeeper":
            var settings = ZooKeeperEnsemble.Settings()
            settings.namespace = namespace
            settings.host = host
            settings.basePort = 2181
            return .zookeeper(try await ZooKeeperEnsemble.start(servers: servers, settings: settings))
        default:
            throw EtcdHarnessError("no coordination service for backend \(backend); use etcd or zookeeper")
        }
    }

    /// The index of the server leading the service's own consensus, if one is known.
    public func leaderIndex() async -> Int? {
        switch self {
        case .etcd(let cluster):
            guard let leader = await cluster.leader() else { return nil }
            return cluster.members.firstIndex { $0 === leader }
        case .zookeeper(let ensemble):
            guard let leader = await ensemble.currentLeader() else { return nil }
            return ensemble.servers.firstIndex { $0 === leader }
        }
    }

    /// A short name of server `index`, for logs: `etcd m2`, `zookeeper 3`.
    public func serverName(_ index: Int) -> String {
        switch self {
        case .etcd(let cluster): "etcd \(cluster.members[index].name)"
        case .zookeeper(let ensemble): "zookeeper server \(ensemble.servers[index].id)"
        }
    }

    /// SIGKILLs server `index` (its data directory is kept).
    public func kill(server index: Int) async {
        switch self {
        case .etcd(let cluster): await cluster.members[index].stop()
        case .zookeeper(let ensemble): await ensemble.servers[index].stop()
        }
    }

    /// Restarts server `index` from its data directory and waits (bounded) until the service serves.
    public func restart(server index: Int, timeout: Duration = .seconds(60)) async throws {
        switch self {
        case .etcd(let cluster):
            try cluster.members[index].start()
            try await cluster.waitUntilHealthy(timeout: timeout)
        case .zookeeper(let ensemble):
            try ensemble.servers[index].start()
            try await ensemble.waitUntilServing(timeout: timeout)
        }
    }
}
