import BallotClient
import BallotCore
import BallotRuntime
import Glibc

/// Prints every change of a node's leadership view as one `key=value` line on standard output
/// (`ballot serve --events`; the format is BallotClient's ``eventLine(for:node:printedAt:)``).
///
/// Lines are written synchronously by the view's listener, on the node's own thread, so they keep
/// the node's order and a lease line is out before anything the node does after moving its lease.
enum EventLine {
    /// Starts printing `view`'s events.
    static func follow(_ view: LeadershipView) {
        let node = view.node
        view.addListener { event in
            write(eventLine(for: event, node: node, printedAt: SystemMonotonicClock.now))
        }
    }

    /// One write(2) per line, so lines from concurrent writers never interleave.
    static func write(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        bytes.withUnsafeBytes { _ = Glibc.write(STDOUT_FILENO, $0.baseAddress, $0.count) }
    }
}
