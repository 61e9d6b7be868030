import BallotCore
import BallotRuntime

// The `key=value` lines `ballot serve --events` prints on standard output, one per leadership
// change and one per move of the node's lease deadline, each stamped with CLOCK_MONOTONIC so that
// a supervisor (`ballot local`, the fault suite, benchmarks) can put several processes' claims on
// one timeline:
//
//   event=elected node=1 leader=2 term=5 self=false leaderless_ms=312.4 mono_ns=…
//   event=lost node=1 previous=2 term=5 mono_ns=…
//   event=lease node=2 term=5 from_ns=… until_ns=… mono_ns=…
//   event=lease_released node=2 term=5 mono_ns=…
//
// From `from_ns` on, the node reports itself leader exactly while CLOCK_MONOTONIC is before
// `until_ns`, until its next lease line; `until_ns == from_ns` says the lease ended early and
// `until_ns=inf` is a lease without end (a one-node cluster). `mono_ns` is when the line was printed.

/// Splits `key=value` pairs separated by spaces.
func eventFields(_ line: String) -> [Substring: Substring] {
    var fields: [Substring: Substring] = [:]
    for pair in line.split(separator: " ") {
        let parts = pair.split(separator: "=", maxSplits: 1)
        if parts.count == 2 { fields[parts[0]] = parts[1] }
    }
    return fields
}

/// The line for one leadership event of node `node`, printed at `printedAt`.
public func eventLine(for event: LeadershipEvent, node: NodeID, printedAt: MonotonicInstant) -> String {
    switch event {
    case .elected(let leader, let term, let isSelf, let leaderless, _, _, _):
        let milliseconds = Double(Int(((leaderless ?? .zero).milliseconds * 10).rounded())) / 10
        return "event=elected node=\(node) leader=\(leader) term=\(term) self=\(isSelf) "
            + "leaderless_ms=\(milliseconds) mono_ns=\(printedAt.nanoseconds)"
    case .lost(let previous, let term, _, _):
        return "event=lost node=\(node) previous=\(previous) term=\(term) mono_ns=\(printedAt.nanoseconds)"
    case .lease(let change, _):
        let until = change.until.map { "\($0.nanoseconds)" } ?? "inf"
        return "event=lease node=\(node) term=\(change.term) from_ns=\(change.at.nanoseconds) until_ns=\(until) "
            + "mono_ns=\(printedAt.nanoseconds)"
    }
}

/// The line saying node `node` released its ended lease of `term` at `printedAt`: every holder had
/// stopped, so the deadline it published no longer binds its successors (issue 15).
public func leaseReleasedLine(node: NodeID, term: Term, printedAt: MonotonicInstant) -> String {
    "event=lease_released node=\(node) term=\(term) mono_ns=\(printedAt.nanoseconds)"
}

/// One `event=lease_released …` line.
public struct LeaseReleasedLine: Sendable, Equatable {
    public var node: UInt64
    public var term: UInt64
    public var monotonicNanoseconds: UInt64

    public init(node: UInt64, term: UInt64, monotonicNanoseconds: UInt64) {
        self.node = node
        self.term = term
        self.monotonicNanoseconds = monotonicNanoseconds
    }

    public init?(parsing line: String) {
        let fields = eventFields(line)
        guard fields["event"] == "lease_released", let node = fields["node"].flatMap({ UInt64($0) }),
              let term = fields["term"].flatMap({ UInt64($0) }), let mono = fields["mono_ns"].flatMap({ UInt64($0) })
        else { return nil }
        self.init(node: node, term: term, monotonicNanoseconds: mono)
    }
}

/// One `event=…` line printed by `ballot serve --events`.
public struct LeadershipEventLine: Sendable, Equatable {
    public enum Kind: String, Sendable { case elected, lost }

    public var kind: Kind
    public var node: UInt64
    /// The new leader (`elected`) or the one lost (`lost`).
    public var leader: UInt64
    public var term: UInt64
    public var isSelf: Bool
    public var leaderlessMilliseconds: Double?
    /// CLOCK_MONOTONIC when the node printed it, shared by all processes on the machine.
    public var monotonicNanoseconds: UInt64

    public init?(parsing line: String) {
        let fields = eventFields(line)
        guard let kindText = fields["event"], let kind = Kind(rawValue: String(kindText)),
              let node = fields["node"].flatMap({ UInt64($0) }), let term = fields["term"].flatMap({ UInt64($0) }),
              let mono = fields["mono_ns"].flatMap({ UInt64($0) }),
              let leader = (kind == .elected ? fields["leader"] : fields["previous"]).flatMap({ UInt64($0) })
        else { return nil }
        self.kind = kind
        self.node = node
        self.leader = leader
        self.term = term
        self.isSelf = fields["self"] == "true"
        self.leaderlessMilliseconds = fields["leaderless_ms"].flatMap { Double($0) }
        self.monotonicNanoseconds = mono
    }
}

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
        let fields = eventFields(line)
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
