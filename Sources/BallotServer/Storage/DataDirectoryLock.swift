#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive `flock` on `<data-dir>/LOCK`, held for as long as this object lives, so that two
/// processes never share one node's durable state.
///
/// The kernel drops the lock when the process exits, however it exits, so a crash never leaves a
/// stale lock. The holder writes its PID into the file for the benefit of error messages only.
public final class DataDirectoryLock: Sendable {
    public static let fileName = "LOCK"

    public let directory: String
    public let path: String
    private let descriptor: Int32

    /// Takes the lock, or fails at once with ``StateStoreError/locked(directory:holder:)``.
    /// The directory must exist.
    public init(directory: String) throws(StateStoreError) {
        let path = FileSystem.join(directory, Self.fileName)
        let fd: Int32
        do throws(SystemCallError) {
            fd = try FileSystem.openFile(path, flags: O_RDWR | O_CREAT)
        } catch {
            throw .io(error)
        }
        var result = flock(fd, LOCK_EX | LOCK_NB)
        while result != 0 && errno == EINTR { result = flock(fd, LOCK_EX | LOCK_NB) }
        if result != 0 {
            let code = errno
            let holder = Self.readHolder(fd)
            FileSystem.closeFile(fd)
            if code == EWOULDBLOCK { throw .locked(directory: directory, holder: holder) }
            throw .io(SystemCallError(operation: "flock", path: path, code: code))
        }
        // Informational only: a failure here leaves the lock fully effective, so it is not an error.
        if ftruncate(fd, 0) == 0 {
            let pid = Array("\(getpid())\n".utf8)
            _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        }
        self.directory = directory
        self.path = path
        self.descriptor = fd
    }

    deinit {
        FileSystem.closeFile(descriptor)
    }

    private static func readHolder(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[0..<count], as: UTF8.self).trimmingNewline
        return Int32(text).flatMap { $0 > 0 ? $0 : nil }
    }
}

private extension String {
    var trimmingNewline: String { hasSuffix("\n") ? String(dropLast()) : self }
}
