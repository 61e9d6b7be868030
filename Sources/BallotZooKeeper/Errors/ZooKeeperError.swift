/// Why a client call failed, and what to do about it.
public enum ZooKeeperError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The server answered with an error code (``ZooKeeperErrorCode/noNode``,
    /// ``ZooKeeperErrorCode/nodeExists``…). The request was processed: nothing to retry.
    case server(ZooKeeperErrorCode, operation: OperationCode, path: String?)
    /// The connection ended before the answer came, or there was no connection to send on. The
    /// request may or may not have been applied (a create may have created its node): wait for
    /// ``ZooKeeperEvent/connected(_:)`` and check before retrying.
    case connectionLoss(ZooKeeperConnectionError)
    /// The ensemble ended the session (``ZooKeeperEvent/expired``): its ephemeral nodes and watches
    /// are gone. Nothing more can be done with this client; connect a new one.
    case sessionExpired
    /// ``ZooKeeperClient/close()`` was called.
    case closed
    /// ``ZooKeeperClient/connect(_:eventLoop:logger:)`` found no server that would open a session
    /// within ``ZooKeeperConfiguration/connectTimeout``; the last failure of each server attempted.
    case noServerReachable([ZooKeeperServerAddress: ZooKeeperConnectionError])
    /// The path is not a valid ZooKeeper path; nothing was sent.
    case invalidPath(String, problem: String)
    /// The configuration cannot work; nothing was attempted.
    case invalidConfiguration(ZooKeeperConfigurationError)
    /// The request would not fit in ``ZooKeeperLimits/maxFrameLength``; nothing was sent.
    case requestTooLarge(byteCount: Int, limit: Int)

    public var description: String {
        switch self {
        case .server(let code, let operation, let path):
            "ZooKeeper answered \(operation)\(path.map { " \($0)" } ?? "") with \(code)"
        case .connectionLoss(let cause):
            "connection lost before the answer (\(cause)); the request may or may not have been applied"
        case .sessionExpired:
            "the ZooKeeper session expired; connect a new client"
        case .closed:
            "the ZooKeeper client is closed"
        case .noServerReachable(let failures):
            "no ZooKeeper server opened a session: "
                + failures.sorted { $0.key.description < $1.key.description }
                .map { "\($0.key): \($0.value)" }.joined(separator: "; ")
        case .invalidPath(let path, let problem):
            "invalid ZooKeeper path \(path.debugDescription): \(problem)"
        case .invalidConfiguration(let error):
            "\(error)"
        case .requestTooLarge(let count, let limit):
            "request of \(count) bytes exceeds the frame limit of \(limit) bytes"
        }
    }
}

/// Why a connection to one server ended. The session outlives its connections: after any of
/// these the client tries the next server with the same session.
public enum ZooKeeperConnectionError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The server sent bytes this client refuses.
    case protocolError(ZooKeeperProtocolError)
    /// The server closed the connection (or a socket error ended it). A server that has seen
    /// fewer transactions than this client refuses the session this way.
    case closedByServer
    /// Connecting failed (refused, unreachable…).
    case connectFailed(String)
    /// No connect response within the attempt's time, or nothing at all received for two thirds
    /// of the session timeout (pings go out at one third).
    case timedOut
    /// There is no connection right now (the client is between servers).
    case notConnected

    /// A fixed, small set of labels (`malformed`, `oversized`, `closed`, `connect_failed`,
    /// `timed_out`, `not_connected`), for a metric that counts why connections end.
    public var reason: String {
        switch self {
        case .protocolError(.frameTooLarge): "oversized"
        case .protocolError: "malformed"
        case .closedByServer: "closed"
        case .connectFailed: "connect_failed"
        case .timedOut: "timed_out"
        case .notConnected: "not_connected"
        }
    }

    public var description: String {
        switch self {
        case .protocolError(let error): "protocol error: \(error)"
        case .closedByServer: "closed by the server"
        case .connectFailed(let reason): "connect failed: \(reason)"
        case .timedOut: "timed out"
        case .notConnected: "not connected"
        }
    }
}
