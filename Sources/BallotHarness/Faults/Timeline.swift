import Foundation

/// One `event=lease …` line of `ballot serve --events`: from `from` on, the node reports itself
/// leader exactly while CLOCK_MONOTONIC is before `until` (until its next lease line).
public struct LeaseEventLine: Sendable, Equatable {
    public var node: UInt64
    public var term: UInt64
    public var from: UInt64
    /// `nil` for a lease without end (`until_ns=inf`, a single-node cluster).
    public var until: UInt64?
    public var monotonicNanoseconds: UInt64

    /// Whether the line reports the lease's end rather than its start or extension.
    public var ends: Bool { until.map { $0 <= from } ?? false }

    public init(node: UInt64, term: UInt64, from: UInt64, until: UInt64?, monotonicNanoseconds: UInt64) {
        self.node = node
        self.term = term
        self.from = from
        self.until = until
        self.monotonicNanoseconds = monotonicNanoseconds
    }

    public init?(parsing line: String) {
        var fields: [Substring: Substring] = [:]
        for pair in line.split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        guard fields["event"] == "lease", let node = fields["node"].flatMap({ UInt64($0) }),
              let term = fields["term"].flatMap({ UInt64($0) }), let from = fields["from_ns"].flatMap({ UInt64($0) }),
              let untilText = fields["until_ns"], let mono = fields["mono_ns"].flatMap({ UInt64($0) })
        else { return nil }
        if untilText == "inf" {
            until = nil
        } else if let value = UInt64(untilText) {
            until = value
        } else {
            return nil
        }
        self.node = node
        self.term = term
        self.from = from
        self.monotonicNanoseconds = mono
    }
}

/// What the fault harness saw, each stamped with CLOCK_MONOTONIC nanoseconds: the nodes' own event
/// lines, the faults it injected, and what the nodes answered over HTTP.
public enum TimelineEvent: Sendable, Equatable {
    /// A leadership line (`elected`/`lost`) a node printed.
    case leadership(LeadershipEventLine)
    /// A lease line a node printed.
    case lease(LeaseEventLine)
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

    /// The instant the event is ordered by.
    public var at: UInt64 {
        switch self {
        case .leadership(let line): line.monotonicNanoseconds
        case .lease(let line): line.monotonicNanoseconds
        case .started(_, let at), .killed(_, let at), .paused(_, let at), .resumed(_, let at): at
        case .faultBegan(_, _, _, let at), .faultHealed(_, let at): at
        case .status(_, _, _, _, let received), .probe(_, _, _, _, _, let received): received
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
        } else if let leadership = LeadershipEventLine(parsing: line) {
            append(.leadership(leadership))
        }
    }

    /// Everything so far, in the order it was recorded (each node's own lines keep their order).
    public var events: [TimelineEvent] { lock.withLock { recorded } }
}
