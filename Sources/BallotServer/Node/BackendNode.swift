import BallotBackends
import BallotClient
import BallotCore
import BallotRuntime

/// A node whose leadership comes from an election backend (etcd, ZooKeeper) rather than from Ballot's
/// own peers: the same HTTP routes, metrics and event lines, read from the backend's view.
public final class BackendNode: ServedNode {
    public let id: NodeID
    public let backend: any ElectionBackend
    public let recorder: MetricsRecorder
    public var view: LeadershipView { backend.view }

    public init(backend: any ElectionBackend, recorder: MetricsRecorder) {
        precondition(recorder.view === backend.view, "the recorder must follow the backend's view")
        id = backend.view.node
        self.backend = backend
        self.recorder = recorder
    }

    /// The view is always current: a claim's end is judged at the instant of asking.
    public func catchUp() async {}

    public var leadership: Leadership {
        get async { view.current.leadership(at: SystemMonotonicClock.now) }
    }

    public func statusReport(wallClockNow: Double) async -> NodeStatusReport {
        let details = await backend.status()
        let now = SystemMonotonicClock.now
        let state = view.current
        let changes = state.history.map { NodeStatusReport.Change($0, now: now, wallClockNow: wallClockNow) }
        let lastContact: Duration? = state.role == .leader ? .zero : state.lastLeaderContact.map { max(now - $0, .zero) }
        return NodeStatusReport(
            id: id.rawValue, role: state.role.rawValue, term: state.term.rawValue, leader: state.leader?.id.rawValue,
            isLeader: state.isLeader(at: now), votedFor: nil, lastLog: "-", lastContactMs: lastContact?.milliseconds,
            peers: [], recentLeadershipChanges: changes, halted: state.halt.map(\.description), backend: details)
    }

    /// A backend cannot hand leadership to a chosen node: the coordination service decides who is
    /// next. Leaving (SIGTERM) hands it to the next candidate in line.
    public func transferLeadership(to target: NodeID) async throws(TransferRefusal) -> TransferOutcome {
        throw .unsupported(algorithm: backend.kind.rawValue)
    }
}
