import BallotCore
import Glibc

/// Prints each leadership change as one `key=value` line on standard output, with a timestamp from
/// the system-wide monotonic clock, so that a supervisor (`ballot local`, the fault suite) can put
/// the claims of several processes on one timeline.
///
/// `event=elected node=1 leader=2 term=5 self=false leaderless_ms=312.4 mono_ns=…`
/// `event=lost node=1 previous=2 term=5 mono_ns=…`
/// `event=lease node=2 term=5 from_ns=… until_ns=… mono_ns=…`
///
/// A `lease` line is printed whenever this node's lease deadline moves (``LeaseChange``): from
/// `from_ns` on, the node reports itself leader exactly while the monotonic clock is before
/// `until_ns`, until its next `lease` line; `until_ns == from_ns` says the lease ended early (step-down,
/// transfer, shutdown); `until_ns=inf` is a single-node cluster's lease without end. Both instants
/// are CLOCK_MONOTONIC nanoseconds, converted from the node's `ContinuousClock` at printing time.
struct EventLine: Sendable {
    let node: NodeID

    func follow(_ ballot: BallotNode) async {
        for await event in await ballot.leadershipEvents() {
            let line: String
            switch event {
            case .elected(let leader, let term, let isSelf, let leaderless):
                line = "event=elected node=\(node) leader=\(leader) term=\(term) self=\(isSelf) "
                    + "leaderless_ms=\(Self.format(leaderless.milliseconds)) mono_ns=\(Self.monotonicNanoseconds())"
            case .lost(let previous, let term):
                line = "event=lost node=\(node) previous=\(previous) term=\(term) mono_ns=\(Self.monotonicNanoseconds())"
            }
            Self.write(line)
        }
    }

    /// Prints one lease change; called synchronously by the node, so lines keep the node's order.
    func lease(_ change: LeaseChange) {
        let now = ContinuousClock.now
        let mono = Self.monotonicNanoseconds()
        let from = Self.monotonic(change.at, now: now, monotonicNow: mono)
        let until = change.until.map { "\(Self.monotonic($0, now: now, monotonicNow: mono))" } ?? "inf"
        Self.write("event=lease node=\(node) term=\(change.term) from_ns=\(from) until_ns=\(until) mono_ns=\(mono)")
    }

    /// `instant` on CLOCK_MONOTONIC, given one reading of both clocks taken together. The two clocks
    /// advance at the same rate (they differ only across a suspend of the whole machine).
    static func monotonic(_ instant: ContinuousClock.Instant, now: ContinuousClock.Instant, monotonicNow: UInt64) -> UInt64 {
        UInt64(clamping: Int64(clamping: monotonicNow) + (instant - now).nanoseconds)
    }

    /// One write(2) per line, so lines from concurrent writers never interleave.
    static func write(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        bytes.withUnsafeBytes { _ = Glibc.write(STDOUT_FILENO, $0.baseAddress, $0.count) }
    }

    static func format(_ value: Double) -> String {
        String(Double(Int((value * 10).rounded())) / 10)
    }

    /// CLOCK_MONOTONIC, which every process on the machine shares.
    static func monotonicNanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}
