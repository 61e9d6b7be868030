/// The body of `GET /leader`: who this node believes leads, whether it is itself the leader right
/// now (lease-backed), and — issue 15 — the view's change index, this node's remaining lease and
/// the leader's advertised HTTP URL:
/// `{"self": 1, "leader": 2, "term": 7, "is_leader": false, "index": 12, "lease_remaining_ms": null,
///   "leader_http": "http://10.0.0.2:9101"}`.
///
/// The term is the fencing token (docs/fencing.md). Absent values are `null`, never omitted.
public struct LeaderView: Codable, Sendable, Equatable {
    /// The answering node's ID, `self` in JSON.
    public var self_: UInt64
    /// `null` in JSON when no leader is known, never omitted.
    public var leader: UInt64?
    public var term: UInt64
    public var isLeader: Bool
    /// Grows by one with every change of this node's view (a leader found or lost, a lease begun
    /// or ended); the `index` of a blocking query (`GET /leader?index=N&wait=30s`).
    public var index: UInt64
    /// This node's remaining lease in milliseconds while it leads; `null` otherwise. A lease
    /// without end (a one-node cluster) is reported as `null` with `is_leader` true.
    public var leaseRemainingMs: Double?
    /// The leader's advertised HTTP URL (`--advertise-http`), if it advertises one.
    public var leaderHttp: String?

    public init(self node: UInt64, leader: UInt64?, term: UInt64, isLeader: Bool, index: UInt64 = 0,
                leaseRemainingMs: Double? = nil, leaderHttp: String? = nil) {
        self.self_ = node
        self.leader = leader
        self.term = term
        self.isLeader = isLeader
        self.index = index
        self.leaseRemainingMs = leaseRemainingMs
        self.leaderHttp = leaderHttp
    }

    enum CodingKeys: String, CodingKey {
        case self_ = "self", leader, term, index
        case isLeader = "is_leader"
        case leaseRemainingMs = "lease_remaining_ms"
        case leaderHttp = "leader_http"
    }

    /// Reads nodes from before issue 15 too (no `index`: 0).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self_ = try container.decode(UInt64.self, forKey: .self_)
        leader = try container.decodeIfPresent(UInt64.self, forKey: .leader)
        term = try container.decode(UInt64.self, forKey: .term)
        isLeader = try container.decode(Bool.self, forKey: .isLeader)
        index = try container.decodeIfPresent(UInt64.self, forKey: .index) ?? 0
        leaseRemainingMs = try container.decodeIfPresent(Double.self, forKey: .leaseRemainingMs)
        leaderHttp = try container.decodeIfPresent(String.self, forKey: .leaderHttp)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self_, forKey: .self_)
        try container.encode(leader, forKey: .leader)
        try container.encode(term, forKey: .term)
        try container.encode(isLeader, forKey: .isLeader)
        try container.encode(index, forKey: .index)
        try container.encode(leaseRemainingMs, forKey: .leaseRemainingMs)
        try container.encode(leaderHttp, forKey: .leaderHttp)
    }
}
