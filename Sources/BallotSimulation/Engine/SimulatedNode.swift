import BallotCore

/// One simulated process: an election core plus what the simulator knows about its host.
struct SimulatedNode {
    enum Condition: Equatable { case up, crashed, paused }

    let id: NodeID
    var core: any ElectionAlgorithm
    /// What survives a crash: the last hard state the core asked to persist.
    var durable: HardState
    var condition: Condition = .up
    /// Bumped on every restart, so messages addressed to a dead incarnation are dropped (its TCP
    /// connections died with it) and its scheduled ticks are ignored.
    var incarnation = 0
    /// Clock rate relative to nominal; a tick lasts `tickMicroseconds / rate`.
    let rate: Double
    var lastTickAt: VirtualTime = .zero
    /// Messages that arrived while paused, delivered in order on resume.
    var inbox: [(message: Message, from: NodeID)] = []
    var pausedAt: VirtualTime = .zero

    var isUp: Bool { condition == .up }
}

/// Creates election cores for the simulator.
enum CoreFactory {
    static func make(
        _ algorithm: AlgorithmKind, id: NodeID, membership: Membership, durable: HardState,
        options: SimulationOptions, random: SplitMix64
    ) -> any ElectionAlgorithm {
        switch algorithm {
        case .raft:
            RaftNode(id: id, membership: membership, configuration: options.raftConfiguration,
                     hardState: durable, random: random)
        case .bully:
            BullyNode(id: id, membership: membership, configuration: options.bullyConfiguration,
                      hardState: durable, random: random)
        case .ring:
            RingNode(id: id, membership: membership,
                     configuration: options.ringConfiguration(nodes: membership.count),
                     hardState: durable, random: random)
        }
    }
}
