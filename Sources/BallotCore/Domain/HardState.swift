/// The state a node must keep on stable storage to stay safe across crashes (Raft Figure 2).
///
/// Losing `votedFor` would let a restarted node vote twice in one term; losing `term` would let
/// it accept a deposed leader. The shell persists it before sending any message that depends on it.
public struct HardState: Hashable, Sendable, CustomStringConvertible {
    public var term: Term
    public var votedFor: NodeID?
    public var lastLog: LogPosition

    public init(term: Term = .zero, votedFor: NodeID? = nil, lastLog: LogPosition = .empty) {
        self.term = term
        self.votedFor = votedFor
        self.lastLog = lastLog
    }

    public static let initial = HardState()

    public var description: String {
        "term=\(term) vote=\(votedFor.map(String.init(describing:)) ?? "-") log=\(lastLog)"
    }
}
