import BallotClient
import BallotCore
import BallotRuntime

/// What the HTTP routes need of a node, whichever producer keeps its leadership view: the Raft
/// node (``BallotNode``) or an election backend (``BackendNode``). Every answer comes from the view.
public protocol ServedNode: Sendable {
    var id: NodeID { get }
    var view: LeadershipView { get }
    var recorder: MetricsRecorder { get }
    /// Brings the view up to date with the clock (a Raft node delivers its due ticks).
    func catchUp() async
    /// Leadership as of now, with the lease judged at this instant.
    var leadership: Leadership { get async }
    /// The body of `GET /status`; `wallClockNow` (Unix seconds) dates the history entries.
    func statusReport(wallClockNow: Double) async -> NodeStatusReport
    /// Hands leadership to `target` and reports how it ended.
    func transferLeadership(to target: NodeID) async throws(TransferRefusal) -> TransferOutcome
}

extension BallotNode: ServedNode {}
