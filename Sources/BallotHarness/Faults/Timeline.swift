import BallotSimulation
import BallotClient
import Foundation

/// What the fault harness saw, each stamped with CLOCK_MONOTONIC nanoseconds: the nodes' own event
/// lines, the faults it injected, and what the nodes answered over HTTP.
public enum TimelineEvent: Sendable, Equatable {
    /// A leadership line (`elected`/`lost`) a node printed.
    case leadership(LeadershipEventLine)
    /// A lease line a node printed.
    case lease(LeaseEventLine)
    /// A node released an ended lease early, every holder having stopped (issue 15).
    case released(LeaseReleasedLine)
    /// A node's process was started (first start or restart) at `at`.
    case started(node: UInt64, at: UInt64)
    /// A node's process was killed with SIGKILL at `at`: whatever lease it held is void from then.
    case killed(node: UInt64, at: UInt64)
    /// SIGSTOP / SIGCONT.
    case paused(node: UInt64, at: UInt64)
    case resumed(node: UInt64, at: UInt64)
    /// A fault began, and when everything it did was undone.
    case faultBegan(number: Int, kind: FaultKind, detail: String, at: UInt64)
    case faultHealed(number: Int, at: UInt64)
    /// `GET /status` answered between `sent` and `received`.
    case status(node: UInt64, term: UInt64, votedFor: UInt64?, sent: UInt64, received: UInt64)
    /// `GET /leader` (`source` "leader") or `/metrics`' `ballot_is_leader` (`source` "metrics")
    /// answered `isLeader` (and, for `/leader`, `term`) between `sent` and `received`.
    case probe(node: UInt64, source: String, isLeader: Bool, term: UInt64?, sent: UInt64, received: UInt64)
    /// A node's `event=peer_…` line about a connection dialled to it.
    case peer(PeerEventLine)
    /// An intruder of fault `number` dialled `node` from `remote` at `at`, sending (if it got so far)
    /// election messages in `forgedTerm`: the node must refuse that connection and deliver nothing.
    case intrusion(number: Int, node: UInt64, kind: FaultKind, remote: String, forgedTerm: UInt64, at: UInt64)
    /// `ballot_peer_frames_rejected_total{reason="auth"}` of `node` as scraped at `at`, before
    /// (`before` true) or after fault `number`'s intruders.
    case authRefusals(number: Int, node: UInt64, before: Bool, count: Double, at: UInt64)

    /// The instant the event is ordered by.
    public var at: UInt64 {
        switch self {
        case .leadership(let line): line.monotonicNanoseconds
        case .lease(let line): line.monotonicNanoseconds
        case .released(let line): line.monotonicNanoseconds
        case .started(_, let at), .killed(_, let at), .paused(_, let at), .resumed(_, let at): at
        case .faultBegan(_, _, _, let at), .faultHealed(_, let at): at
        case .status(_, _, _, _, let received), .probe(_, _, _, _, _, let received): received
        case .peer(let line): line.monotonicNanoseconds
        case .intrusion(_, _, _, _, _, let at), .authRefusals(_, _, _, _, let at): at
        }
    }
}

/// A thread-safe, append-only record of ``TimelineEvent``s from every node and the harness.
public final class ClusterTimeline: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [TimelineEvent] = []

    public init() {}

    public func append(_ event: TimelineEvent) {
        lock.withLock { recorded.append(event) }
    }

    /// Parses one line a node printed and records it if it is an event line.
    public func ingest(line: String) {
        if let lease = LeaseEventLine(parsing: line) {
            append(.lease(lease))
        } else if let released = LeaseReleasedLine(parsing: line) {
            append(.released(released))
        } else if let leadership = LeadershipEventLine(parsing: line) {
            append(.leadership(leadership))
        } else if let peer = PeerEventLine(parsing: line) {
            append(.peer(peer))
        }
    }

    /// Everything so far, in the order it was recorded (each node's own lines keep their order).
    public var events: [TimelineEvent] { lock.withLock { recorded } }
}
