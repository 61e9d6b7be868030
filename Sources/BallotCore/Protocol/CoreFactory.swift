extension ElectionAlgorithmKind {
    /// The one place an algorithm kind becomes a core, for the server and the simulator alike.
    ///
    /// Bully and Ring take Raft's failure detector (`electionTimeoutTicks`, `heartbeatIntervalTicks`)
    /// so that comparisons measure the elections, not the detectors. Only Raft has a candidacy
    /// (issue 15); the others ignore it, so check ``supportsCandidacy`` before offering one.
    public func makeCore(
        id: NodeID, membership: Membership, raft configuration: RaftConfiguration, hardState: HardState,
        candidacy: Candidacy = .default, random: SplitMix64
    ) -> any ElectionAlgorithm {
        switch self {
        case .raft:
            RaftNode(id: id, membership: membership, configuration: configuration, hardState: hardState,
                     candidacy: candidacy, random: random)
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

extension ElectionAlgorithmKind {
    /// Whether the algorithm honours eligibility, priorities and resignation (issue 15).
    public var supportsCandidacy: Bool { self == .raft }
}
