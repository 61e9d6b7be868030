#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call: what was attempted, on which path, and the `errno` it returned.
public struct SystemCallError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The call that failed, e.g. `open`, `fsync`, `rename`.
    public let operation: String
    public let path: String
    public let code: Int32

    public init(operation: String, path: String, code: Int32) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    /// The system's text for `code`, e.g. "Not a directory".
    public var reason: String { String(cString: strerror(code)) }

    public var description: String { "\(operation) \(path): \(reason) (errno \(code))" }
}

/// Thin, EINTR-safe wrappers over the POSIX calls the durable store needs.
///
/// Foundation's `FileManager` cannot fsync a directory or hold an `flock`, and its errors lose the
/// `errno`; these keep it so that every message can say exactly what the system refused.
enum FileSystem {
    /// Opens `path`, retrying on EINTR. Every descriptor is close-on-exec so that a child process
    /// never inherits the data-directory lock.
    static func openFile(_ path: String, flags: Int32, mode: mode_t = 0o644) throws(SystemCallError) -> Int32 {
        while true {
            let fd = open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            let code = errno
            if code != EINTR { throw SystemCallError(operation: "open", path: path, code: code) }
        }
    }

    static func closeFile(_ fd: Int32) {
        // After EINTR the descriptor is already closed on Linux; retrying could close a descriptor
        // that another thread has just been given. Never retry.
        _ = close(fd)
    }

    /// Writes every byte, continuing after partial writes and EINTR.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(SystemCallError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                write(fd, buffer.baseAddress! + written, buffer.count - written)
            }
            if result >= 0 {
                written += result
            } else if errno != EINTR {
                throw SystemCallError(operation: "write", path: path, code: errno)
            }
        }
    }

    /// Reads until end of file, or until more than `limit` bytes have arrived; a result longer
    /// than `limit` tells the caller the file is too large.
    static func readAll(_ fd: Int32, limit: Int, path: String) throws(SystemCallError) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while result.count <= limit {
            let count = chunk.withUnsafeMutableBytes { buffer in
                read(fd, buffer.baseAddress!, buffer.count)
            }
            if count > 0 {
                result.append(contentsOf: chunk[0..<count])
            } else if count == 0 {
                return result
            } else if errno != EINTR {
                throw SystemCallError(operation: "read", path: path, code: errno)
            }
        }
        return result
    }

    /// Reads a whole file; `nil` when it does not exist.
    static func readFileIfPresent(_ path: String, limit: Int) throws(SystemCallError) -> [UInt8]? {
        let fd: Int32
        do throws(SystemCallError) {
            fd = try openFile(path, flags: O_RDONLY)
        } catch where error.code == ENOENT {
            return nil
        }
        defer { closeFile(fd) }
        return try readAll(fd, limit: limit, path: path)
    }

    static func syncFile(_ fd: Int32, path: String) throws(SystemCallError) {
        while fsync(fd) != 0 {
            if errno != EINTR { throw SystemCallError(operation: "fsync", path: path, code: errno) }
        }
    }

    /// Flushes a directory's entries, so that a rename or unlink inside it survives power loss.
    static func syncDirectory(_ path: String) throws(SystemCallError) {
        let fd = try openFile(path, flags: O_RDONLY | O_DIRECTORY)
        defer { closeFile(fd) }
        try syncFile(fd, path: path)
    }

    static func renameFile(_ source: String, to destination: String) throws(SystemCallError) {
        if rename(source, destination) != 0 {
            throw SystemCallError(operation: "rename", path: "\(source) to \(destination)", code: errno)
        }
    }

    static func removeFile(_ path: String) throws(SystemCallError) {
        if unlink(path) != 0 {
            throw SystemCallError(operation: "unlink", path: path, code: errno)
        }
    }

    /// `mkdir -p`: creates `path` and any missing parents. An existing directory is fine; an
    /// existing non-directory anywhere on the way fails with ENOTDIR.
    static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(SystemCallError) {
        if isDirectory(path) { return }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += component
            if mkdir(prefix, mode) != 0 {
                let code = errno
                guard code == EEXIST else {
                    throw SystemCallError(operation: "mkdir", path: prefix, code: code)
                }
                guard isDirectory(prefix) else {
                    throw SystemCallError(operation: "mkdir", path: prefix, code: ENOTDIR)
                }
            }
            prefix += "/"
        }
    }

    /// Replaces `path` with `bytes` so that a crash leaves the old or the new contents, never a mix:
    /// a temporary file `<temporaryPrefix><random>` in `directory` is written and synced, renamed
    /// over `path`, and the directory synced. When it returns, the new contents survive power loss.
    static func replaceDurably(_ path: String, in directory: String, temporaryPrefix: String, with bytes: [UInt8])
        throws(SystemCallError)
    {
        let suffix = String(UInt64.random(in: .min ... .max), radix: 16)
        let temporary = join(directory, temporaryPrefix + suffix)
        let fd = try openFile(temporary, flags: O_WRONLY | O_CREAT | O_EXCL)
        do throws(SystemCallError) {
            try writeAll(fd, bytes, path: temporary)
            try syncFile(fd, path: temporary)
        } catch {
            closeFile(fd)
            try? removeFile(temporary)
            throw error
        }
        closeFile(fd)
        do throws(SystemCallError) {
            try renameFile(temporary, to: path)
        } catch {
            try? removeFile(temporary)
            throw error
        }
        try syncDirectory(directory)
    }

    /// Removes every file in `directory` whose name starts with `prefix` (a crash's leftovers).
    static func removeFiles(in directory: String, prefixed prefix: String) throws(SystemCallError) {
        for name in try listDirectory(directory) where name.hasPrefix(prefix) {
            try removeFile(join(directory, name))
        }
    }

    /// The names in a directory, without `.` and `..`.
    static func listDirectory(_ path: String) throws(SystemCallError) -> [String] {
        guard let stream = opendir(path) else {
            throw SystemCallError(operation: "opendir", path: path, code: errno)
        }
        defer { closedir(stream) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw SystemCallError(operation: "readdir", path: path, code: errno) }
                return names
            }
            let name = withUnsafePointer(to: entry.pointee.d_name) { tuple in
                tuple.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: tuple.pointee)) {
                    String(cString: $0)
                }
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Joins a directory and a file name with exactly one separator.
    static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }
}
