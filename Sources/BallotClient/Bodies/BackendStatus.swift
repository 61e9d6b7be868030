/// What `/status` shows of a backend: where it is connected and what it holds. Never credentials.
public struct BackendStatus: Hashable, Sendable, Codable {
    public var backend: String
    public var election: String
    /// The endpoint or server in use, if connected.
    public var connectedTo: String?
    /// The etcd lease ID or the ZooKeeper session ID, in hex.
    public var session: String?
    /// This node's candidacy: its etcd key or ZooKeeper node, and its fencing token.
    public var candidacy: String?
    public var candidacyToken: UInt64?
    /// Candidates in the election, as last seen.
    public var candidates: Int
    /// How long this node may still claim leadership, in milliseconds; nil when it claims nothing.
    public var claimRemainingMs: Double?
    /// Since the last renewal the service answered was sent, in milliseconds.
    public var sinceRenewalMs: Double?

    public init(backend: String, election: String, connectedTo: String? = nil, session: String? = nil,
                candidacy: String? = nil, candidacyToken: UInt64? = nil, candidates: Int = 0,
                claimRemainingMs: Double? = nil, sinceRenewalMs: Double? = nil) {
        self.backend = backend
        self.election = election
        self.connectedTo = connectedTo
        self.session = session
        self.candidacy = candidacy
        self.candidacyToken = candidacyToken
        self.candidates = candidates
        self.claimRemainingMs = claimRemainingMs
        self.sinceRenewalMs = sinceRenewalMs
    }
}
