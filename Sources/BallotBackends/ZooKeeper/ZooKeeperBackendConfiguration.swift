import BallotZooKeeper

/// How the ZooKeeper backend reaches its ensemble and takes part in one election.
public struct ZooKeeperBackendConfiguration: Hashable, Sendable {
    public var servers: [ZooKeeperServerAddress]
    public var election: ElectionName
    /// The session timeout asked for; the ensemble may clamp it (the negotiated one counts).
    public var sessionTimeout: Duration
    /// How long a ZooKeeper follower cut off from its leader may go on answering this node:
    /// the ensemble's `syncLimit × tickTime` plus half a tick (its touches reach the leader every
    /// half tick). 0 for a standalone server. Part of the claim's margin.
    public var followerLag: Duration
    /// Timer and scheduling slack, the rest of the margin.
    public var claimMargin: Duration

    public static let defaultSessionTimeout = Duration.seconds(4)
    /// syncLimit 10 × tickTime 200 ms + tickTime/2 = 2.1 s: the test ensembles' setting
    /// (Coordination/ZooKeeperServer.swift), and what leaves room to claim with the default 4 s
    /// session. Set it from your zoo.cfg.
    public static let defaultFollowerLag = Duration.milliseconds(2_100)
    public static let defaultClaimMargin = Duration.milliseconds(100)
    public static let sessionTimeoutRange = Duration.milliseconds(500)...Duration.seconds(600)

    public init(servers: [ZooKeeperServerAddress], election: ElectionName = .default,
                sessionTimeout: Duration = Self.defaultSessionTimeout, followerLag: Duration = Self.defaultFollowerLag,
                claimMargin: Duration = Self.defaultClaimMargin) throws(ZooKeeperBackendConfigurationError) {
        guard !servers.isEmpty else { throw .noServers }
        guard Self.sessionTimeoutRange.contains(sessionTimeout) else { throw .sessionTimeoutOutOfRange(sessionTimeout) }
        guard followerLag >= .zero else { throw .negativeFollowerLag(followerLag) }
        self.servers = servers
        self.election = election
        self.sessionTimeout = sessionTimeout
        self.followerLag = followerLag
        self.claimMargin = claimMargin
        guard claimWindow(for: sessionTimeout) > renewalInterval(for: sessionTimeout) else {
            throw .noRoomToClaim(sessionTimeout: sessionTimeout, followerLag: followerLag)
        }
    }

    /// The claim bound for a negotiated session timeout.
    public func bound(for timeout: Duration) -> ClaimBound {
        ClaimBound(validity: timeout, margin: followerLag + claimMargin)
    }

    func claimWindow(for timeout: Duration) -> Duration { bound(for: timeout).window }

    /// How often the backend renews (one request to the ensemble): a third of the timeout, as
    /// ZooKeeper's own client pings.
    func renewalInterval(for timeout: Duration) -> Duration { timeout / 3 }
}

/// A configuration the ZooKeeper backend cannot work with; each message says what to change.
public enum ZooKeeperBackendConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    case noServers
    case sessionTimeoutOutOfRange(Duration)
    case negativeFollowerLag(Duration)
    case noRoomToClaim(sessionTimeout: Duration, followerLag: Duration)

    public var description: String {
        switch self {
        case .noServers: "no ZooKeeper server given; pass --zookeeper HOST:PORT[,HOST:PORT…]"
        case .sessionTimeoutOutOfRange(let timeout): "session timeout \(timeout) is out of range; use 500ms to 10m"
        case .negativeFollowerLag(let lag): "follower lag \(lag) cannot be negative"
        case .noRoomToClaim(let timeout, let lag):
            "session timeout \(timeout) leaves no room to claim leadership: timeout × 0.95 − follower lag \(lag) − margin "
                + "must exceed the renewal interval (timeout / 3); raise --session-timeout (and the ensemble's "
                + "maxSessionTimeout) or lower --zookeeper-follower-lag to your ensemble's syncLimit × tickTime"
        }
    }
}
