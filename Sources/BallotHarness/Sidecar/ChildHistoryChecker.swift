import BallotChildRun
import BallotClient
import Foundation

/// What the sidecar promises, checked on the writers' own records (``ChildRun``) and the nodes'
/// lease lines — all CLOCK_MONOTONIC readings taken by the processes themselves, so they compare
/// directly:
///
/// - **no two children run at the same instant**: no two runs' `[first, last]` intersect, however
///   briefly (no tolerance);
/// - **every child ran under a term whose lease covered it**: its node announced lease lines of the
///   child's term whose `[from, until]` together cover the whole run, within the clock-error bound.
///   A lease is covered up to the deadline it announced (`until`), also when it then ended early
///   (a transfer, a resignation): that deadline is the one the sidecar computes its kill from, and
///   the one the timing promise is about (docs/architecture.md, "Timing promises").
public struct ChildHistoryChecker: Sendable {
    public enum Property: String, Sendable {
        case overlap = "child-overlap"
        case outsideLease = "child-outside-lease"
    }

    public struct Violation: Sendable, CustomStringConvertible {
        public var property: Property
        public var at: UInt64
        public var detail: String
        public var description: String { "[\(property.rawValue)] at mono \(at): \(detail)" }
    }

    /// Tolerated error of a lease line's instants (converted from the node's clock by one paired reading).
    public var clockError: UInt64

    public init(clockError: UInt64 = 5_000_000) { self.clockError = clockError }

    public func check(_ runs: [ChildRun], leases: [LeaseEventLine]) -> [Violation] {
        overlaps(runs).map { a, b, overlap in
            Violation(property: .overlap, at: b.first, detail:
                "\(a) and \(b) ran at once for \(String(format: "%.3f", Double(overlap) / 1e6)) ms")
        } + coverage(runs, leases: leases).compactMap { run, uncovered in
            uncovered.map { Violation(property: .outsideLease, at: $0, detail: "\(run) ran at \($0) outside every lease of its term") }
        }
    }

    /// Every pair of runs that intersect, with the length of the intersection in nanoseconds.
    public func overlaps(_ runs: [ChildRun]) -> [(ChildRun, ChildRun, UInt64)] {
        let sorted = runs.sorted { $0.first < $1.first }
        var found: [(ChildRun, ChildRun, UInt64)] = []
        for (index, a) in sorted.enumerated() {
            for b in sorted[(index + 1)...] {
                if b.first > a.last { break }
                found.append((a, b, min(a.last, b.last) - b.first))
            }
        }
        return found
    }

    /// For each run, the first instant its node's leases of its term do not cover (nil: covered).
    public func coverage(_ runs: [ChildRun], leases: [LeaseEventLine]) -> [(ChildRun, UInt64?)] {
        runs.map { run in
            let pieces = covering(node: run.node, term: run.term, leases: leases)
            var reached = run.first
            // Walk the merged pieces in order: the run must start in one and never leave them.
            for piece in pieces where piece.start <= reached + clockError {
                if piece.end >= run.last &- min(run.last, clockError) { return (run, nil) }
                reached = max(reached, piece.end)
            }
            return (run, reached)
        }
    }

    /// How far before the end of its covering lease each run stopped (negative: after), in
    /// nanoseconds; runs under an unbounded lease are left out.
    public func margins(_ runs: [ChildRun], leases: [LeaseEventLine]) -> [Int64] {
        runs.compactMap { run in
            let pieces = covering(node: run.node, term: run.term, leases: leases)
            guard let piece = pieces.first(where: { $0.start <= run.last + clockError && $0.end >= run.last &- min(run.last, clockError) }),
                  piece.end != .max
            else { return nil }
            return Int64(piece.end) - Int64(run.last)
        }
    }

    /// The merged `[from, until]` of a node's lease lines of one term (`until` nil: unbounded).
    func covering(node: UInt64, term: UInt64, leases: [LeaseEventLine]) -> [(start: UInt64, end: UInt64)] {
        let pieces = leases.filter { $0.node == node && $0.term == term && !$0.ends }
            .map { (start: $0.from, end: $0.until ?? .max) }
            .sorted { $0.start < $1.start }
        var merged: [(start: UInt64, end: UInt64)] = []
        for piece in pieces {
            if let last = merged.last, piece.start <= last.end {
                merged[merged.count - 1].end = max(last.end, piece.end)
            } else {
                merged.append(piece)
            }
        }
        return merged
    }

    /// Time in `[from, to)` during which no run was running, in nanoseconds.
    public static func idleTime(_ runs: [ChildRun], from: UInt64, to: UInt64) -> UInt64 {
        guard to > from else { return 0 }
        var idle: UInt64 = 0
        var cursor = from
        for run in runs.sorted(by: { $0.first < $1.first }) where run.last > cursor && run.first < to {
            if run.first > cursor { idle += min(run.first, to) - cursor }
            cursor = max(cursor, min(run.last, to))
            if cursor >= to { break }
        }
        if cursor < to { idle += to - cursor }
        return idle
    }

    /// Time in `[from, to)` during which two or more runs ran at once, in nanoseconds.
    public static func overlapTime(_ runs: [ChildRun], from: UInt64, to: UInt64) -> UInt64 {
        var points: [(UInt64, Int)] = []
        for run in runs where run.last > from && run.first < to {
            points.append((max(run.first, from), 1))
            points.append((min(run.last, to), -1))
        }
        points.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        var running = 0
        var since: UInt64 = 0
        var total: UInt64 = 0
        for (at, change) in points {
            if running >= 2 { total += at - since }
            running += change
            since = at
        }
        return total
    }
}
