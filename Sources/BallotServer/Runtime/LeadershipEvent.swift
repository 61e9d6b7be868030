import BallotCore

/// What an embedding application needs to know about leadership, with the term as fencing token.
///
/// Pass `fencingToken` along with every action taken as leader; a resource that remembers the
/// highest token it has seen can refuse a deposed leader (see docs/fencing.md).
public struct Leadership: Hashable, Sendable {
    /// The leader this node knows, if any.
    public var leader: NodeID?
    public var term: Term
    /// True only while this node leads with a quorum lease valid at the moment of asking.
    public var isSelf: Bool
    /// The term, as the token to fence writes with.
    public var fencingToken: Term { term }

    public init(leader: NodeID?, term: Term, isSelf: Bool) {
        self.leader = leader
        self.term = term
        self.isSelf = isSelf
    }
}

/// A leadership change as it happens on this node, delivered to ``BallotNode/leadershipEvents()``.
public enum LeadershipEvent: Hashable, Sendable {
    /// A leader is known for `term`; `isSelf` when it is this node.
    case elected(leader: NodeID, term: Term, isSelf: Bool, leaderlessFor: Duration)
    /// The known leader is gone (timeout, step-down, or a newer term began).
    case lost(previous: NodeID, term: Term)
}
