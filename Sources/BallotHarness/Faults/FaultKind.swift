/// The faults the harness injects into real processes, each bounded in duration and undone.
public enum FaultKind: String, Sendable, CaseIterable, Codable, Comparable {
    /// SIGKILL a node (often the leader), then restart it from its data directory.
    case kill
    /// SIGSTOP a node (often the leader) for longer than the election timeout, then SIGCONT: the
    /// process-pause (GC pause) case.
    case pause
    /// A symmetric partition: two groups that cannot reach each other.
    case partition
    /// One group's packets to the other are dropped; the other direction still flows.
    case asymmetric
    /// Two groups cut off from each other, and one node that reaches both.
    case bridge
    /// Random packet loss on every link.
    case loss
    /// Delayed (queued) packets on the leader's link.
    case delay
    /// SIGKILL of one server of the coordination service's ensemble (etcd, ZooKeeper), restarted
    /// after a while: only for nodes run with `--backend etcd|zookeeper`.
    case serverKill = "server-kill"

    /// Whether the fault needs network namespaces.
    public var needsNetwork: Bool {
        switch self {
        case .kill, .pause, .serverKill: false
        case .partition, .asymmetric, .bridge, .loss, .delay: true
        }
    }

    /// Whether the fault means something for nodes elected through `backend`. With a coordination
    /// service, partitions cut a node off from the service (the nodes never talk to each other), so
    /// a bridge has nothing to bridge; a server kill needs a service.
    public func applies(to backend: String) -> Bool {
        switch self {
        case .serverKill: backend != "raft"
        case .bridge: backend == "raft"
        default: true
        }
    }

    public static func < (a: FaultKind, b: FaultKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
