/// The body of `GET /status`: this node's beliefs, its peers, and recent leadership changes.
/// Keys are snake_case in JSON.
public struct NodeStatusReport: Codable, Sendable {
    public struct Peer: Codable, Sendable {
        public var id: UInt64
        public var connected: Bool
        public var lastRoundTripMs: Double?
        /// Milliseconds since this node last received a message from the peer (null if never since
        /// it started). On the leader every follower acknowledges each heartbeat, so this is each
        /// member's last contact; a follower hears from other followers only during elections.
        public var lastHeardMs: Double?
        /// The peer's advertised HTTP URL (its `--advertise-http`, from its `member_info`), if known.
        public var http: String?

        public init(id: UInt64, connected: Bool, lastRoundTripMs: Double?, lastHeardMs: Double? = nil, http: String? = nil) {
            self.id = id
            self.connected = connected
            self.lastRoundTripMs = lastRoundTripMs
            self.lastHeardMs = lastHeardMs
            self.http = http
        }
    }

    /// A leader found (`leader` set) or lost (`leader` null).
    public struct Change: Codable, Sendable {
        public var leader: UInt64?
        public var term: UInt64
        public var unixTime: Double
        public var leaderlessMs: Double

        public init(leader: UInt64?, term: UInt64, unixTime: Double, leaderlessMs: Double) {
            self.leader = leader
            self.term = term
            self.unixTime = unixTime
            self.leaderlessMs = leaderlessMs
        }
    }

    public var id: UInt64
    public var role: String
    public var term: UInt64
    public var leader: UInt64?
    public var isLeader: Bool
    public var votedFor: UInt64?
    public var lastLog: String
    /// Milliseconds since this node last heard from its leader (0 on the leader, null if never).
    public var lastContactMs: Double?
    public var peers: [Peer]
    public var recentLeadershipChanges: [Change]
    public var halted: String?
    /// Issue 15: whether this node may lead now (false while ineligible or holding off after a
    /// resignation) and its priority; absent for algorithms without candidacy.
    public var eligible: Bool?
    public var priority: UInt16?
    /// The election backend's side (etcd, ZooKeeper); absent on a Raft node.
    public var backend: BackendStatus?
    /// Issue 16: this node's advertised HTTP URL, the version it runs, and while it leads the
    /// lease it holds (milliseconds left): what `ballot status` shows for every member at once.
    public var http: String?
    public var version: String?
    public var leaseRemainingMs: Double?
    /// Issue 15: lease holders registered now (`whileLeader` bodies, `GET /holder` streams): a
    /// hand-over's successor waits for the deadline unless each of them confirms it stopped.
    public var leaseHolders: Int?

    public init(
        id: UInt64, role: String, term: UInt64, leader: UInt64?, isLeader: Bool, votedFor: UInt64?, lastLog: String,
        lastContactMs: Double?, peers: [Peer], recentLeadershipChanges: [Change], halted: String?,
        eligible: Bool? = nil, priority: UInt16? = nil, backend: BackendStatus? = nil
    ) {
        self.id = id
        self.role = role
        self.term = term
        self.leader = leader
        self.isLeader = isLeader
        self.votedFor = votedFor
        self.lastLog = lastLog
        self.lastContactMs = lastContactMs
        self.peers = peers
        self.recentLeadershipChanges = recentLeadershipChanges
        self.halted = halted
        self.eligible = eligible
        self.priority = priority
        self.backend = backend
    }
}
