/// What the client tells its user, in the order it happened, on ``ZooKeeperClient/events``.
///
/// Session states come in a fixed grammar: `connected` first, then any number of
/// `disconnected` → `connected` pairs (every `connected` after the first is the *same* session,
/// re-established on some server of the ensemble), ending with `expired` or `closed`, after which
/// the stream finishes. Watch events come between them, each watch at most once, and each before
/// the reply to any request the server answered after it.
public enum ZooKeeperEvent: Hashable, Sendable {
    /// The session is established (the first time) or re-established after a disconnection.
    case connected(ZooKeeperSessionInfo)
    /// The connection to `server` ended. The session may well be alive: the client is already
    /// trying the next server with it. Requests fail with ``ZooKeeperError/connectionLoss(_:)``
    /// until the next `connected`.
    case disconnected(server: ZooKeeperServerAddress, cause: ZooKeeperConnectionError)
    /// The ensemble declared the session expired: its ephemeral nodes are deleted and its watches
    /// gone. Final: the client never opens a new session in its place.
    case expired
    /// ``ZooKeeperClient/close()`` ended the client. Final.
    case closed
    /// A watch set by `exists`, `getData` or `getChildren` fired.
    case watch(WatcherEvent)
}

/// The session as the server last confirmed it.
public struct ZooKeeperSessionInfo: Hashable, Sendable {
    public var sessionID: Int64
    /// The session timeout the server granted (it clamps the one asked for to its bounds): the
    /// ensemble expires the session once it has heard nothing from the client for this long.
    public var negotiatedTimeout: Duration
    /// The server of this connection.
    public var server: ZooKeeperServerAddress
    /// Whether that server is in read-only mode (this client asks for read-write servers only).
    public var readOnly: Bool

    public init(sessionID: Int64, negotiatedTimeout: Duration, server: ZooKeeperServerAddress, readOnly: Bool) {
        self.sessionID = sessionID
        self.negotiatedTimeout = negotiatedTimeout
        self.server = server
        self.readOnly = readOnly
    }
}

/// Where the session stands.
public enum ZooKeeperSessionState: Hashable, Sendable {
    /// Opening the session: no server has granted one yet.
    case connecting
    case connected
    /// Between servers, with the session (possibly) still alive.
    case disconnected
    case expired
    case closed
}

/// A consistent snapshot of the client, readable from any thread without waiting
/// (``ZooKeeperClient/status``).
public struct ZooKeeperStatus: Hashable, Sendable {
    public var state: ZooKeeperSessionState
    /// The session as last established; `server` is the current one only while `connected`.
    public var session: ZooKeeperSessionInfo?
    /// When the client sent the latest request the server has answered — any request, pings and
    /// the connect handshake included — on this process's `ContinuousClock`.
    ///
    /// The server renewed the session when that request reached it, which was no earlier than
    /// this; so the ensemble cannot expire the session (and delete its ephemeral nodes) before
    /// this instant + the negotiated timeout, as measured by the ensemble's clocks. A user that
    /// acts on "my ephemeral node exists" must stop by this instant + timeout × (1 − ρ) − margin,
    /// where ρ bounds the clocks' rate difference.
    public var lastAnsweredRequestSentAt: ContinuousClock.Instant?
    /// The highest zxid seen in a reply: a server behind it refuses this client.
    public var lastZxidSeen: Int64
    /// How many events ``ZooKeeperClient/events`` has been given. Every event the server sent
    /// before a reply is counted before that reply reaches its caller.
    public var eventsDelivered: Int

    public init(state: ZooKeeperSessionState, session: ZooKeeperSessionInfo?, lastAnsweredRequestSentAt: ContinuousClock.Instant?,
                lastZxidSeen: Int64, eventsDelivered: Int) {
        self.state = state
        self.session = session
        self.lastAnsweredRequestSentAt = lastAnsweredRequestSentAt
        self.lastZxidSeen = lastZxidSeen
        self.eventsDelivered = eventsDelivered
    }
}
