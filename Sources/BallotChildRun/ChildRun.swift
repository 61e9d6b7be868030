import BallotRuntime

/// One run of the sidecar suite's leader-only writer: which node's sidecar started it, under which
/// term (fencing token), and the first and last instants (CLOCK_MONOTONIC) at which its code ran.
///
/// The writer (`ballot-writer`, ``ChildRunRecorder``) rewrites its record in place about every
/// millisecond, so `last` is within a millisecond of the last moment it did anything — also when it
/// is killed with SIGKILL. Records are fixed-width lines in `<directory>/child-<pid>-<first>.rec`:
///
///     child node=00000000000000000003 term=… pid=… ppid=… first_ns=… last_ns=…
///
/// The harness reads them back with `ChildRun.load(from:)` (BallotHarness).
public struct ChildRun: Sendable, Equatable, CustomStringConvertible {
    public var node: UInt64
    public var term: UInt64
    public var pid: Int32
    /// The writer's parent: the sidecar's keeper (or `etcdctl lock`).
    public var parent: Int32
    public var first: UInt64
    public var last: UInt64

    public init(node: UInt64, term: UInt64, pid: Int32, parent: Int32, first: UInt64, last: UInt64) {
        self.node = node
        self.term = term
        self.pid = pid
        self.parent = parent
        self.first = first
        self.last = last
    }

    public var description: String {
        // Milliseconds to one decimal, rounded half up (no Foundation here for `String(format:)`).
        let tenths = (last &- first) / 100_000 + ((last &- first) % 100_000 >= 50_000 ? 1 : 0)
        return "child pid \(pid) of node \(node) term \(term) ran \(first)…\(last) (\(tenths / 10).\(tenths % 10) ms)"
    }

    /// The record line (always the same length, so an in-place rewrite replaces it whole).
    public var line: String {
        func pad(_ value: UInt64) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
        }
        return "child node=\(pad(node)) term=\(pad(term)) pid=\(pad(UInt64(pid))) ppid=\(pad(UInt64(parent))) "
            + "first_ns=\(pad(first)) last_ns=\(pad(last))\n"
    }

    /// Parses a record line (its line end optional); `nil` for anything else.
    public init?(line: String) {
        var fields: [Substring: UInt64] = [:]
        let words = line.split(whereSeparator: \.isWhitespace)
        guard words.first == "child" else { return nil }
        for word in words.dropFirst() {
            let parts = word.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let value = UInt64(parts[1]) else { return nil }
            fields[parts[0]] = value
        }
        guard let node = fields["node"], let term = fields["term"], let pid = fields["pid"], let parent = fields["ppid"],
              let first = fields["first_ns"], let last = fields["last_ns"], last >= first
        else { return nil }
        self.init(node: node, term: term, pid: Int32(truncatingIfNeeded: pid), parent: Int32(truncatingIfNeeded: parent),
                  first: first, last: last)
    }
}
