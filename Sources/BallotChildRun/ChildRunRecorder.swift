import BallotRuntime
import Glibc

/// The sidecar suite's writer (`ballot-writer`): records on CLOCK_MONOTONIC when it runs and under
/// which term, and does nothing else — it never reads its lease pipe and, with `ignoreTerminate`,
/// ignores SIGTERM too: the worst case a sidecar must still stop in time.
public enum ChildRunRecorder {
    /// A record that could not be created or written.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Records in `directory` until `limit` has passed (or the process is killed). Returns only
    /// after `limit`.
    public static func run(directory: String, node: UInt64, term: UInt64, ignoreTerminate: Bool,
                           limit: Duration) throws(Failure) {
        if ignoreTerminate { signal(SIGTERM, SIG_IGN) }
        let first = SystemMonotonicClock.now.nanoseconds
        let path = "\(directory)/child-\(getpid())-\(first).rec"
        // Written under a temporary name and renamed, so that a reader never finds the record empty.
        let creating = path + ".new"
        let descriptor = open(creating, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw Failure(description: "cannot create \(creating): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var record = ChildRun(node: node, term: term, pid: getpid(), parent: getppid(), first: first, last: first)
        let firstBytes = Array(record.line.utf8)
        guard firstBytes.withUnsafeBytes({ pwrite(descriptor, $0.baseAddress, $0.count, 0) }) == firstBytes.count,
              rename(creating, path) == 0
        else {
            throw Failure(description: "cannot write \(path): \(String(cString: strerror(errno)))")
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
