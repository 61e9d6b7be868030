import BallotCore
import Glibc

/// Prints each leadership change as one `key=value` line on standard output, with a timestamp from
/// the system-wide monotonic clock, so that a supervisor (`ballot local`, the fault suite) can put
/// the claims of several processes on one timeline.
///
/// `event=elected node=1 leader=2 term=5 self=false leaderless_ms=312.4 mono_ns=…`
/// `event=lost node=1 previous=2 term=5 mono_ns=…`
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
