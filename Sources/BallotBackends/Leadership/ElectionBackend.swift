import BallotClient
import BallotCore
import BallotRuntime

/// A producer of leadership from a coordination service: it takes part in one election there and
/// keeps the node's ``LeadershipView`` — the same view a Raft node driver keeps — so every consumer
/// (`/leader`, `/readyz`, `/status`, metrics, event lines) works unchanged.
public protocol ElectionBackend: Sendable {
    /// The node's view; this backend is its only producer.
    var view: LeadershipView { get }
    /// Which backend this is (`etcd`, `zookeeper`): the `backend` label of `ballot_build_info`.
    var kind: BackendKind { get }
    /// The etcd lease TTL or the ZooKeeper session timeout asked for: a node that has heard nothing
    /// from the service for this long no longer knows a live leader (`/readyz`).
    var validity: Duration { get }
    /// Takes part in the election until the task is cancelled. Throws only when the node cannot go
    /// on at all (``BackendError/halted(_:)``: the fencing token could not be saved).
    func run() async throws
    /// Stops claiming leadership at once, then gives up the candidacy on the service (resign), so
    /// that the next candidate leads without waiting for a TTL. Bounded; call once, at exit.
    func shutDown() async
    /// The backend's side of `/status`.
    func status() async -> BackendStatus
}

/// The backends a node can run (`--backend`); `raft` is the built-in node driver.
public enum BackendKind: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case raft
    case etcd
    case zookeeper

    public var description: String { rawValue }
}

/// Where a backend keeps the highest fencing token it has reported, so that the node's term never
/// goes back across restarts (`ballot_term`, `/leader`, `/status`), as a Raft node's never does.
public protocol FencingTokenStore: AnyObject {
    /// Saves `token` durably (fsync) before it is reported; throws if it cannot.
    func save(highestToken token: Term) throws
}

/// Why a backend stopped.
public enum BackendError: Error, CustomStringConvertible {
    /// The fencing token could not be saved; the node no longer claims leadership and exits.
    case halted(Halt)

    public var description: String {
        switch self {
        case .halted(let halt): "stopped because the fencing token could not be persisted: \(halt.detail)"
        }
    }
}
