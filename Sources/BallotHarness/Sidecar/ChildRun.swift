import BallotRuntime
import Foundation
import Glibc

/// One run of the fault suite's leader-only writer: which node's sidecar started it, under which
/// term (fencing token), and the first and last instants (CLOCK_MONOTONIC) at which its code ran.
///
/// The writer (`ballot sidecar-writer`) rewrites its record in place about every millisecond, so
/// `last` is within a millisecond of the last moment it did anything — also when it is killed with
/// SIGKILL. Records are fixed-width lines in `<directory>/child-<pid>-<first>.rec`:
///
///     child node=00000000000000000003 term=… pid=… ppid=… first_ns=… last_ns=…
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
        "child pid \(pid) of node \(node) term \(term) ran \(first)…\(last) (\(String(format: "%.1f", Double(last - first) / 1e6)) ms)"
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

    public init?(line: String) {
        var fields: [Substring: UInt64] = [:]
        let words = line.split(separator: " ")
        guard words.first == "child" else { return nil }
        for word in words.dropFirst() {
            let parts = word.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let value = UInt64(parts[1].trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
            fields[parts[0]] = value
        }
        guard let node = fields["node"], let term = fields["term"], let pid = fields["pid"], let parent = fields["ppid"],
              let first = fields["first_ns"], let last = fields["last_ns"], last >= first
        else { return nil }
        self.init(node: node, term: term, pid: Int32(truncatingIfNeeded: pid), parent: Int32(truncatingIfNeeded: parent),
                  first: first, last: last)
    }

    /// Every record in `directory`; a file that is not a record is reported, not skipped silently.
    public static func load(from directory: String) throws -> [ChildRun] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var runs: [ChildRun] = []
        for name in names.sorted() where name.hasSuffix(".rec") {
            let text = try String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8)
            guard let run = ChildRun(line: text) else {
                throw Subprocess.Failure(description: "\(directory)/\(name) is not a child record: \(text.prefix(200))")
            }
            runs.append(run)
        }
        return runs.sorted { ($0.first, $0.pid) < ($1.first, $1.pid) }
    }
}

/// The fault suite's writer: records on CLOCK_MONOTONIC when it runs and under which term, and
/// does nothing else — it never reads its lease pipe and, with `ignoreTerminate`, ignores SIGTERM
/// too: the worst case a sidecar must still stop in time.
public enum ChildRunRecorder {
    /// Records until `limit` has passed (or the process is killed). Returns only after `limit`.
    public static func run(directory: String, node: UInt64, term: UInt64, ignoreTerminate: Bool, limit: Duration) throws {
        if ignoreTerminate { signal(SIGTERM, SIG_IGN) }
        let first = SystemMonotonicClock.now.nanoseconds
        let path = "\(directory)/child-\(getpid())-\(first).rec"
        // Written under a temporary name and renamed, so that a reader never finds the record empty.
        let creating = path + ".new"
        let descriptor = open(creating, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw Subprocess.Failure(description: "cannot create \(creating): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var record = ChildRun(node: node, term: term, pid: getpid(), parent: getppid(), first: first, last: first)
        let firstBytes = Array(record.line.utf8)
        guard firstBytes.withUnsafeBytes({ pwrite(descriptor, $0.baseAddress, $0.count, 0) }) == firstBytes.count,
              rename(creating, path) == 0
        else {
            throw Subprocess.Failure(description: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        let end = first + UInt64(limit.nanoseconds)
        var pause = timespec(tv_sec: 0, tv_nsec: 1_000_000)
        while record.last < end {
            record.last = SystemMonotonicClock.now.nanoseconds
            let bytes = Array(record.line.utf8)
            _ = bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
            nanosleep(&pause, nil)
        }
    }
}
