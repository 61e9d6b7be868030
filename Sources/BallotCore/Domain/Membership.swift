/// A static set of voting members and the quorum arithmetic over it.
///
/// Members are kept sorted so that every iteration order is deterministic.
public struct Membership: Hashable, Sendable {
    public let members: [NodeID]

    public init(_ members: some Sequence<NodeID>) {
        self.members = Array(Set(members)).sorted()
        precondition(!self.members.isEmpty, "a cluster needs at least one member")
    }

    public var count: Int { members.count }

    /// The smallest number of members that forms a majority: ⌊n/2⌋ + 1, for odd and even n.
    public var quorum: Int { members.count / 2 + 1 }

    public func contains(_ id: NodeID) -> Bool { members.contains(id) }

    /// Everyone but `id`, in ascending order.
    public func peers(of id: NodeID) -> [NodeID] { members.filter { $0 != id } }

    public func isQuorum(_ votes: Int) -> Bool { votes >= quorum }

    /// The outcome of a vote count: won once a quorum grants, lost once a quorum can no longer grant.
    public func tally(granted: Int, rejected: Int) -> VoteTally {
        if granted >= quorum { return .won }
        if rejected > members.count - quorum { return .lost }
        return .pending
    }
}

/// The state of a vote count.
public enum VoteTally: Hashable, Sendable {
    case pending, won, lost
}
