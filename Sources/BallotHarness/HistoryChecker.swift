import BallotClient
import Foundation

/// Checks a fault run's ``TimelineEvent`` history for the properties Ballot promises.
///
/// Every instant is CLOCK_MONOTONIC in nanoseconds. All nodes run on one machine and share that
/// clock, so the only error in comparing two nodes' instants is how they were taken:
///
/// - a lease line's `from_ns`/`until_ns` are read from CLOCK_MONOTONIC by the node itself, so they
///   compare exactly; only the lease's deadline is a projection (tick k at `origin + k·tick`);
/// - a probe's claim happened somewhere between the harness sending the request and receiving the
///   answer, and is only compared against the whole of that window.
///
/// ``Bounds/clockError`` (5 ms by default) covers scheduling noise on a loaded
/// two-core machine. The lease design leaves far more slack than that (a 300 ms election timeout
/// gives a 260 ms lease against voters' 290 ms promise), so a real overlap shows up as much more.
public struct HistoryChecker: Sendable {
    public struct Bounds: Sendable {
        /// Tolerated overlap of two nodes' leases, and slack around probe windows.
        public var clockError: UInt64 = 5_000_000
        /// After a fault heals, some node must hold a lease within this long.
        public var recovery: UInt64 = 6_000_000_000
        public init() {}
    }

    public enum Property: String, Sendable, CaseIterable {
        case electionSafety = "election-safety"
        case leaseOverlap = "lease-overlap"
        case leaseSuccession = "lease-succession"
        case leaseReport = "lease-report"
        case staleLeader = "stale-leader-after-resume"
        case termMonotonicity = "term-monotonicity"
        case durableState = "durable-state"
        case recovery = "recovery"
        case unauthenticatedDelivery = "unauthenticated-delivery"
    }

    public struct Violation: Sendable, CustomStringConvertible {
        public var property: Property
        public var at: UInt64
        public var detail: String
        public var description: String { "[\(property.rawValue)] at mono \(at): \(detail)" }
    }

    /// One stretch during which a node held a lease, as it announced it.
    public struct LeaseInterval: Sendable, Equatable {
        public var node: UInt64
        public var term: UInt64
        public var start: UInt64
        public var end: UInt64
    }

    public let bounds: Bounds
    public init(bounds: Bounds = Bounds()) { self.bounds = bounds }

    /// Every violation in `events`; `endedAt` closes leases still open when recording stopped.
    public func check(_ events: [TimelineEvent], endedAt: UInt64) -> [Violation] {
        let intervals = leaseIntervals(events, endedAt: endedAt)
        return electionSafety(events) + leaseOverlaps(intervals) + leaseSuccession(events, intervals)
            + probeClaims(events, intervals)
            + staleLeaders(events, intervals) + termMonotonicity(events) + durableState(events)
            + recovery(events, intervals) + unauthenticatedDelivery(events)
    }

    // MARK: Leases

    /// Each node's lease intervals: a lease line holds from its `from` until its `until`, cut short by
    /// the node's next lease line, its SIGKILL or its restart. Adjacent pieces of one term are merged.
    public func leaseIntervals(_ events: [TimelineEvent], endedAt: UInt64) -> [LeaseInterval] {
        var perNode: [UInt64: [(at: UInt64, event: TimelineEvent)]] = [:]
        for event in events {
            switch event {
            case .lease(let line): perNode[line.node, default: []].append((line.monotonicNanoseconds, event))
            case .killed(let node, let at), .started(let node, let at): perNode[node, default: []].append((at, event))
            default: break
            }
        }
        var result: [LeaseInterval] = []
        for node in perNode.keys.sorted() {
            let ordered = perNode[node]!.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }
            var open: LeaseEventLine?
            var pieces: [LeaseInterval] = []
            func close(at cut: UInt64) {
                guard let line = open else { return }
                let end = min(line.until ?? cut, cut)
                if end > line.from { pieces.append(LeaseInterval(node: node, term: line.term, start: line.from, end: end)) }
                open = nil
            }
            for (_, item) in ordered {
                switch item.event {
                case .lease(let line):
                    close(at: line.from)
                    if !line.ends { open = line }
                case .killed(_, let at), .started(_, let at):
                    close(at: at)
                default: break
                }
            }
            close(at: endedAt)
            for piece in pieces {
                if var last = result.last, last.node == node, last.term == piece.term, piece.start <= last.end {
                    last.end = max(last.end, piece.end)
                    result[result.count - 1] = last
                } else {
                    result.append(piece)
                }
            }
        }
        return result
    }

    /// No two nodes hold a lease at the same instant, beyond the clock-error bound.
    func leaseOverlaps(_ intervals: [LeaseInterval]) -> [Violation] {
        let sorted = intervals.sorted { $0.start < $1.start }
        var violations: [Violation] = []
        for (i, a) in sorted.enumerated() {
            for b in sorted[(i + 1)...] {
                if b.start >= a.end { break }
                guard a.node != b.node else { continue }
                let overlap = min(a.end, b.end) - b.start
                if overlap > bounds.clockError {
                    violations.append(Violation(property: .leaseOverlap, at: b.start, detail:
                        "node \(a.node) (term \(a.term)) and node \(b.node) (term \(b.term)) both held a lease for "
                        + "\(Self.ms(overlap)) ms"))
                }
            }
        }
        return violations
    }

    /// No lease begins before another node's earlier lease has run to the last deadline it
    /// published, even when that node was killed or stepped down first: a process that outlives
    /// its node's notice (a sidecar's CMD) may run until that deadline — unless the node released
    /// the lease (`event=lease_released`: every holder had stopped), which ends it there. Pairs that
    /// already overlap as held leases are ``leaseOverlaps(_:)``'s to report.
    func leaseSuccession(_ events: [TimelineEvent], _ intervals: [LeaseInterval]) -> [Violation] {
        struct Key: Hashable { var node: UInt64; var term: UInt64 }
        var start: [Key: UInt64] = [:]
        var published: [Key: UInt64] = [:]
        for case .lease(let line) in events {
            // A line that ends a lease says when it ended, not what was promised.
            guard let until = line.until, !line.ends else { continue }
            let key = Key(node: line.node, term: line.term)
            start[key] = min(start[key] ?? line.from, line.from)
            published[key] = max(published[key] ?? until, until)
        }
        for case .released(let line) in events {
            let key = Key(node: line.node, term: line.term)
            if let until = published[key] { published[key] = min(until, line.monotonicNanoseconds) }
        }
        var held: [Key: UInt64] = [:]
        for interval in intervals {
            let key = Key(node: interval.node, term: interval.term)
            held[key] = max(held[key] ?? interval.end, interval.end)
        }
        var violations: [Violation] = []
        let leases = start.sorted { ($0.value, $0.key.node) < ($1.value, $1.key.node) }
        for (i, earlier) in leases.enumerated() {
            guard let until = published[earlier.key] else { continue }
            for later in leases[(i + 1)...] where later.key.node != earlier.key.node {
                if later.value >= until { break }
                let early = until - later.value
                let alreadyOverlapping = (held[earlier.key] ?? 0) > later.value + bounds.clockError
                if early > bounds.clockError && !alreadyOverlapping {
                    violations.append(Violation(property: .leaseSuccession, at: later.value, detail:
                        "node \(later.key.node)'s lease of term \(later.key.term) began \(Self.ms(early)) ms before "
                        + "the deadline node \(earlier.key.node) had published for term \(earlier.key.term)"))
                }
            }
        }
        return violations
    }

    /// A node that answered "I lead" must have announced a lease covering that moment, and no other
    /// node may have held one throughout the request.
    func probeClaims(_ events: [TimelineEvent], _ intervals: [LeaseInterval]) -> [Violation] {
        var violations: [Violation] = []
        let slack = bounds.clockError
        for case .probe(let node, let source, true, let term, let sent, let received) in events {
            let low = sent > slack ? sent - slack : 0
            let high = received + slack
            let own = intervals.filter { $0.node == node && $0.start < high && $0.end > low }
            if own.isEmpty {
                violations.append(Violation(property: .leaseReport, at: sent, detail:
                    "node \(node) reported itself leader on \(source) (term \(term.map(String.init) ?? "?")) between "
                    + "\(sent) and \(received) but announced no lease then"))
            }
            for other in intervals where other.node != node && other.start <= low && other.end >= high {
                violations.append(Violation(property: .leaseOverlap, at: sent, detail:
                    "node \(node) reported itself leader on \(source) while node \(other.node) held the term-\(other.term) "
                    + "lease throughout the request"))
            }
        }
        return violations
    }

    /// A leader paused while another node was elected with a newer term must, once resumed, never
    /// report itself leader again in its old term, and must learn a newer term within the bound.
    func staleLeaders(_ events: [TimelineEvent], _ intervals: [LeaseInterval]) -> [Violation] {
        var violations: [Violation] = []
        for case .resumed(let node, let resumedAt) in events {
            guard let pausedAt = events.lazy.compactMap({ event -> UInt64? in
                if case .paused(node, let at) = event, at <= resumedAt { return at }
                return nil
            }).max(),
                  let held = intervals.last(where: { $0.node == node && $0.start < pausedAt && $0.end > pausedAt })
            else { continue }  // It held no lease when paused.
            guard let newer = intervals.first(where: {
                $0.node != node && $0.term > held.term && $0.start < resumedAt
            }) else { continue }  // Nobody newer was elected while it slept.
            let relead = intervals.first { $0.node == node && $0.term > held.term && $0.start >= resumedAt }?.start ?? .max
            var learned = false
            // Answers to requests sent while it was stopped were necessarily computed after SIGCONT.
            for case .probe(node, let source, let isLeader, let term, let sent, let received) in events
            where sent >= pausedAt && received > resumedAt && received < relead {
                if isLeader {
                    violations.append(Violation(property: .staleLeader, at: sent, detail:
                        "node \(node), paused as term-\(held.term) leader and resumed after node \(newer.node) led term "
                        + "\(newer.term), answered is_leader=true on \(source) within \(Self.ms(received - resumedAt)) ms after SIGCONT"))
                }
                if let term, term > held.term, received <= resumedAt + bounds.recovery { learned = true }
            }
            if !learned {
                violations.append(Violation(property: .staleLeader, at: resumedAt, detail:
                    "node \(node), resumed into term \(newer.term), reported no newer term than \(held.term) within "
                    + "\(Self.ms(bounds.recovery)) ms"))
            }
        }
        return violations
    }

    // MARK: Terms and state

    /// Raft §5.2: at most one leader per term, whoever reports it.
    func electionSafety(_ events: [TimelineEvent]) -> [Violation] {
        var leaderOf: [UInt64: UInt64] = [:]
        var violations: [Violation] = []
        func note(term: UInt64, leader: UInt64, by node: UInt64, at: UInt64) {
            if let known = leaderOf[term], known != leader {
                violations.append(Violation(property: .electionSafety, at: at, detail:
                    "term \(term) has two leaders: \(known) and \(leader) (reported by node \(node))"))
            } else {
                leaderOf[term] = leader
            }
        }
        for event in events {
            switch event {
            case .leadership(let line) where line.kind == .elected:
                note(term: line.term, leader: line.leader, by: line.node, at: line.monotonicNanoseconds)
            case .lease(let line):
                note(term: line.term, leader: line.node, by: line.node, at: line.monotonicNanoseconds)
            default: break
            }
        }
        return violations
    }

    /// Per node and per source (election lines, lease lines, `/status`), the term never decreases, and
    /// across a restart the new process starts at no lower term than the killed one ever showed.
    func termMonotonicity(_ events: [TimelineEvent]) -> [Violation] {
        var violations: [Violation] = []
        var lastBySource: [String: UInt64] = [:]
        var highestOfIncarnation: [UInt64: UInt64] = [:]
        var floorAfterRestart: [UInt64: UInt64] = [:]
        func see(_ node: UInt64, _ source: String, _ term: UInt64, at: UInt64) {
            let key = "\(node)/\(source)"
            if let last = lastBySource[key], term < last {
                violations.append(Violation(property: .termMonotonicity, at: at, detail:
                    "node \(node)'s \(source) went from term \(last) back to \(term)"))
            }
            if let floor = floorAfterRestart[node], term < floor {
                violations.append(Violation(property: .termMonotonicity, at: at, detail:
                    "node \(node) restarted at term \(term) below the \(floor) it had reached before its crash"))
            }
            lastBySource[key] = max(lastBySource[key] ?? 0, term)
            highestOfIncarnation[node] = max(highestOfIncarnation[node] ?? 0, term)
        }
        for event in Self.byNodeClock(events) {
            switch event {
            case .leadership(let line) where line.kind == .elected: see(line.node, "elected", line.term, at: line.monotonicNanoseconds)
            case .lease(let line): see(line.node, "lease", line.term, at: line.monotonicNanoseconds)
            case .status(let node, let term, _, let sent, _): see(node, "status", term, at: sent)
            case .started(let node, _):
                floorAfterRestart[node] = max(floorAfterRestart[node] ?? 0, highestOfIncarnation[node] ?? 0)
            default: break
            }
        }
        return violations
    }

    /// Term and vote survive SIGKILL: the first `/status` after a restart shows a term at least the
    /// last one before the kill, and the same vote if the term did not move.
    func durableState(_ events: [TimelineEvent]) -> [Violation] {
        var violations: [Violation] = []
        var lastBefore: [UInt64: (term: UInt64, vote: UInt64?)] = [:]
        var pending: [UInt64: (term: UInt64, vote: UInt64?)] = [:]
        for event in Self.byNodeClock(events) {
            switch event {
            case .status(let node, let term, let vote, _, _):
                if let before = pending.removeValue(forKey: node) {
                    if term < before.term || (term == before.term && before.vote != nil && vote != before.vote) {
                        violations.append(Violation(property: .durableState, at: event.at, detail:
                            "node \(node) had term \(before.term) vote \(before.vote.map(String.init) ?? "-") before SIGKILL "
                            + "but term \(term) vote \(vote.map(String.init) ?? "-") after restarting"))
                    }
                }
                lastBefore[node] = (term, vote)
            case .killed(let node, _):
                if let before = lastBefore.removeValue(forKey: node) { pending[node] = before }
            default: break
            }
        }
        return violations
    }

    /// After each fault heals, some node holds a lease at some instant within the recovery bound.
    func recovery(_ events: [TimelineEvent], _ intervals: [LeaseInterval]) -> [Violation] {
        var violations: [Violation] = []
        for case .faultHealed(let number, let at) in events {
            let limit = at + bounds.recovery
            if !intervals.contains(where: { $0.start <= limit && $0.end > at }) {
                violations.append(Violation(property: .recovery, at: at, detail:
                    "no node held a lease within \(Self.ms(bounds.recovery)) ms after fault #\(number) healed"))
            }
        }
        return violations
    }

    // MARK: Helpers

    /// Events in the order of the instants they report (status samples by their send time), ties
    /// kept in recording order.
    static func byNodeClock(_ events: [TimelineEvent]) -> [TimelineEvent] {
        func key(_ event: TimelineEvent) -> UInt64 {
            if case .status(_, _, _, let sent, _) = event { return sent }
            return event.at
        }
        return events.enumerated().sorted { (key($0.element), $0.offset) < (key($1.element), $1.offset) }.map(\.element)
    }

    static func ms(_ nanoseconds: UInt64) -> String {
        String(format: "%.1f", Double(nanoseconds) / 1e6)
    }
}
