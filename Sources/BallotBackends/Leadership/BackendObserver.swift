import BallotCore
import BallotRuntime

/// Told what an election backend did, for metrics and logs: the leadership actions it derived
/// from the coordination service (campaigns, step-downs), renewals answered, connections, and
/// anything refused or failed. The server's metrics recorder is one.
public protocol BackendObserver: AnyObject, Sendable {
    /// A batch of leadership actions, in order, at `instant` — the same actions a node driver
    /// reports, so the counters derived from them mean the same for every producer.
    func executed(_ actions: [Action], at instant: MonotonicInstant)
    /// A renewal (an etcd keep-alive, a ZooKeeper request) was answered `roundTrip` after it was sent.
    func coordinationRenewed(after roundTrip: Duration)
    /// The node's session with the coordination service (a live etcd lease, an established ZooKeeper
    /// connection) came up (`true`) or went down (`false`).
    func coordinationConnected(_ connected: Bool)
    /// A request failed or an answer was refused; `reason` is one of ``CoordinationFailure/allReasons``.
    func coordinationFailed(_ failure: CoordinationFailure)
}

/// Why a request to the coordination service failed, as a fixed label for a metric.
public enum CoordinationFailure: String, Hashable, Sendable, CaseIterable {
    /// The answer did not parse, or broke the protocol (bad JSON, a bad jute record, a missing field).
    case malformed
    /// The answer was larger than the limit.
    case oversized
    /// No connection could be made.
    case connectFailed = "connect_failed"
    /// The connection ended before the answer.
    case closed
    /// No answer in time.
    case timedOut = "timed_out"
    /// The service answered with an error (an HTTP error status, a ZooKeeper error code).
    case serviceError = "service_error"
    /// The service refused this node's credentials, or TLS failed.
    case unauthenticated
    /// The etcd lease or ZooKeeper session ended on the service's side (expired or revoked).
    case expired
}
