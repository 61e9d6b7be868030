/// How a ``ZooKeeperClient`` reaches its ensemble and what session it asks for.
public struct ZooKeeperConfiguration: Hashable, Sendable {
    /// The ensemble. The client tries them in turn (shuffled once, see ``shuffleServers``).
    public var servers: [ZooKeeperServerAddress]
    /// The session timeout asked for. The server clamps it to its own bounds (by default 2 to 20
    /// ticks); ``ZooKeeperSessionInfo/negotiatedTimeout`` is what counts.
    public var sessionTimeout: Duration
    /// How long ``ZooKeeperClient/connect(_:eventLoop:logger:)`` keeps trying before it gives up.
    public var connectTimeout: Duration
    /// How long ``ZooKeeperClient/close()`` waits for the server to confirm the session's end.
    public var closeTimeout: Duration
    /// Spread clients over the ensemble, as ZooKeeper's own client does. Off, servers are tried in
    /// the order given.
    public var shuffleServers: Bool
    public var limits: ZooKeeperLimits

    public init(servers: [ZooKeeperServerAddress], sessionTimeout: Duration = .seconds(4),
                connectTimeout: Duration = .seconds(10), closeTimeout: Duration = .seconds(2),
                shuffleServers: Bool = true, limits: ZooKeeperLimits = .default) {
        self.servers = servers
        self.sessionTimeout = sessionTimeout
        self.connectTimeout = connectTimeout
        self.closeTimeout = closeTimeout
        self.shuffleServers = shuffleServers
        self.limits = limits
    }

    /// A configuration for a connect string `host:port,host:port,…`.
    public init(connectString: String, sessionTimeout: Duration = .seconds(4)) throws(ZooKeeperConfigurationError) {
        self.init(servers: try ZooKeeperServerAddress.parseList(connectString), sessionTimeout: sessionTimeout)
    }

    /// The first problem with this configuration, or nil.
    public func validate() throws(ZooKeeperConfigurationError) {
        guard !servers.isEmpty else { throw .noServers }
        let milliseconds = sessionTimeout.milliseconds
        guard milliseconds >= 1, milliseconds <= Int64(Int32.max) else { throw .invalidSessionTimeout(sessionTimeout) }
        guard connectTimeout > .zero else { throw .invalidTimeout("connectTimeout", connectTimeout) }
        guard closeTimeout > .zero else { throw .invalidTimeout("closeTimeout", closeTimeout) }
        guard limits.maxFrameLength >= 64, limits.maxStringLength >= 1, limits.maxBufferLength >= 16,
            limits.maxVectorCount >= 1
        else { throw .invalidLimits(limits) }
    }
}

/// A configuration the client cannot work with; it says which setting to fix.
public enum ZooKeeperConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    case invalidServer(String, String)
    case noServers
    case invalidSessionTimeout(Duration)
    case invalidTimeout(String, Duration)
    case invalidLimits(ZooKeeperLimits)

    public var description: String {
        switch self {
        case .invalidServer(let entry, let problem): "invalid ZooKeeper server \(entry.debugDescription): \(problem)"
        case .noServers: "no ZooKeeper server given; expected host:port[,host:port…]"
        case .invalidSessionTimeout(let timeout): "session timeout \(timeout) must be 1 ms to \(Int32.max) ms"
        case .invalidTimeout(let name, let value): "\(name) \(value) must be positive"
        case .invalidLimits(let limits):
            "limits \(limits) are too small: frames need at least 64 bytes, passwords 16"
        }
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
