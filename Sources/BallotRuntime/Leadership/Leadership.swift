import BallotCore

/// What an embedding application needs to know about leadership at one instant, with the term as
/// fencing token.
///
/// Pass `fencingToken` along with every action taken as leader; a resource that remembers the
/// highest token it has seen can refuse a deposed leader (docs/fencing.md).
public struct Leadership: Hashable, Sendable {
    /// The leader this node knows, if any.
    public var leader: NodeID?
    public var term: Term
    /// True only while this node leads with a lease valid at the moment of asking.
    public var isSelf: Bool
    /// The term, as the token to fence writes with.
    public var fencingToken: Term { term }

    public init(leader: NodeID?, term: Term, isSelf: Bool) {
        self.leader = leader
        self.term = term
        self.isSelf = isSelf
    }
}

extension LeadershipState {
    /// The application's answer at `now`.
    public func leadership(at now: MonotonicInstant) -> Leadership {
        Leadership(leader: leader?.id, term: term, isSelf: isLeader(at: now))
    }
}
