/// The body of `GET /leader`: who this node believes leads, and whether it is itself the leader
/// right now (lease-backed). `{"self": 1, "leader": 2, "term": 7, "is_leader": false}`.
///
/// The term is the fencing token (docs/fencing.md).
public struct LeaderView: Codable, Sendable, Equatable {
    /// The answering node's ID, `self` in JSON.
    public var self_: UInt64
    /// `null` in JSON when no leader is known, never omitted.
    public var leader: UInt64?
    public var term: UInt64
    public var isLeader: Bool

    public init(self node: UInt64, leader: UInt64?, term: UInt64, isLeader: Bool) {
        self.self_ = node
        self.leader = leader
        self.term = term
        self.isLeader = isLeader
    }

    enum CodingKeys: String, CodingKey {
        case self_ = "self", leader, term
        case isLeader = "is_leader"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self_, forKey: .self_)
        try container.encode(leader, forKey: .leader)
        try container.encode(term, forKey: .term)
        try container.encode(isLeader, forKey: .isLeader)
    }
}
