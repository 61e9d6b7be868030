#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A stand-in for the resource leader-only work writes to: a text file shared by every node of the
/// example, which **fences** its writers. Each entry carries the writer's fencing token (its term);
/// the ledger remembers the highest token it has accepted and refuses a write with a lower one, so
/// a deposed leader that wakes up late cannot write after its successor did (docs/fencing.md).
///
/// Appends are serialized across processes with an exclusive `flock` on the file.
struct FencedLedger {
    enum Outcome: Equatable {
        case written
        /// Refused: `highest` was already accepted.
        case fenced(highest: UInt64)
    }

    let path: String

    /// Appends `line` if `token` is at least the highest token the ledger has accepted.
    func append(token: UInt64, _ line: String) throws -> Outcome {
        let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LedgerError(operation: "open", code: errno) }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { throw LedgerError(operation: "flock", code: errno) }
        defer { _ = flock(fd, LOCK_UN) }
        let highest = try highestToken(fd)
        if token < highest { return .fenced(highest: highest) }
        let bytes = Array("\(token) \(line)\n".utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw LedgerError(operation: "write", code: errno) }
        return .written
    }

    /// The token of the last entry (entries only ever grow in token), 0 for an empty ledger.
    private func highestToken(_ fd: Int32) throws -> UInt64 {
        let size = lseek(fd, 0, SEEK_END)
        guard size > 0 else { return 0 }
        let tail = min(Int(size), 4096)
        var buffer = [UInt8](repeating: 0, count: tail)
        let read = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, tail, off_t(Int(size) - tail)) }
        guard read == tail else { throw LedgerError(operation: "read", code: errno) }
        let lines = buffer.split(separator: 0x0A)
        guard let last = lines.last, let token = UInt64(String(decoding: last.prefix { $0 != 0x20 }, as: UTF8.self))
        else { return 0 }
        return token
    }
}

struct LedgerError: Error, CustomStringConvertible {
    let operation: String
    let code: Int32
    var description: String { "ledger \(operation) failed: \(String(cString: strerror(code)))" }
}
