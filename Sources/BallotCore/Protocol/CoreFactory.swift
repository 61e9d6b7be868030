extension ElectionAlgorithmKind {
    /// The one place an algorithm kind becomes a core, for the server and the simulator alike.
    ///
    /// Bully and Ring take Raft's failure detector (`electionTimeoutTicks`, `heartbeatIntervalTicks`)
    /// so that comparisons measure the elections, not the detectors.
    public func makeCore(
        id: NodeID, membership: Membership, raft configuration: RaftConfiguration, hardState: HardState,
        random: SplitMix64
    ) -> any ElectionAlgorithm {
        switch self {
        case .raft:
            RaftNode(id: id, membership: membership, configuration: configuration, hardState: hardState, random: random)
        case .bully:
            BullyNode(
                id: id, membership: membership,
                configuration: .matching(electionTimeoutTicks: configuration.electionTimeoutTicks,
                                         heartbeatIntervalTicks: configuration.heartbeatIntervalTicks),
                hardState: hardState, random: random)
        case .ring:
            RingNode(
                id: id, membership: membership,
                configuration: .matching(electionTimeoutTicks: configuration.electionTimeoutTicks,
                                         heartbeatIntervalTicks: configuration.heartbeatIntervalTicks,
                                         members: membership.count),
                hardState: hardState, random: random)
        }
    }
}
