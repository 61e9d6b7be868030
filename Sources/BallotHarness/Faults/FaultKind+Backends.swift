import BallotSimulation

extension FaultKind {
    /// Whether the fault means something for nodes elected through `backend` (`raft`, `etcd`,
    /// `zookeeper`). With a coordination service, partitions cut a node off from the service (the
    /// nodes never talk to each other), so a bridge has nothing to bridge and intruders have no
    /// peer port to dial; a server kill needs a service.
    public func applies(to backend: String) -> Bool {
        switch self {
        case .serverKill: backend != "raft"
        case .bridge, .impostor, .foreignCertificate, .wrongIdentity, .replay: backend == "raft"
        default: true
        }
    }

    /// The kinds `ballot faults` injects by default for `backend`.
    public static func onRealProcesses(for backend: String) -> [FaultKind] {
        backend == "raft" ? onRealProcesses : onRealProcesses.filter { $0.applies(to: backend) } + [.serverKill]
    }
}
