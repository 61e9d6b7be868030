import Foundation
import Glibc
import Synchronization

/// This process's end of a pipe to a ``ChildProcess``: the write end of its standard input, or the
/// read end of its standard output or error. Close-on-exec, so no other child inherits it (a child
/// holding a copy of the write end would keep a reader from ever seeing end of file).
///
/// Closed once, by ``close()`` or when the last reference goes; a reader thread keeps its pipe alive
/// by holding it. Writing to a pipe whose child has exited raises SIGPIPE, as any write to a pipe does.
public final class ChildPipe: Sendable {
    public let descriptor: Int32
    private let closed = Mutex(false)

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit { close() }

    /// Closes this end (idempotent): for standard input, the child reads end of file. Not while
    /// another thread reads from it.
    public func close() {
        let wasOpen = closed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        if wasOpen { _ = Glibc.close(descriptor) }
    }

    /// Writes all of `bytes` (blocking while the pipe is full).
    public func write(_ bytes: some Collection<UInt8>) throws(ChildProcess.Failure) {
        let buffer = Array(bytes)
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { raw in
                Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
            }
            if written >= 0 {
                offset += written
            } else if errno != EINTR {
                throw ChildProcess.Failure("writing to a child's pipe: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Reads until end of file — once the child, and every process it passed the pipe on to, closed
    /// it — and returns everything read. Blocks the calling thread.
    public func readToEnd() -> [UInt8] {
        var data: [UInt8] = []
        forEachChunk { data.append(contentsOf: $0) }
        return data
    }

    /// ``readToEnd()`` as UTF-8 text.
    public func readText() -> String {
        String(decoding: readToEnd(), as: UTF8.self)
    }

    /// ``readText()`` on a thread of its own: the task waits without blocking a thread of the cooperative
    /// pool (two of them, on a machine with two cores, are all it has).
    public func readTextInBackground() async -> String {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: self.readText()) }
        }
    }

    /// Calls `body` with every complete line (without its newline) until end of file; a last line
    /// without a newline is dropped. Blocks the calling thread: run it on a thread of its own.
    public func forEachLine(_ body: (String) -> Void) {
        var buffer: [UInt8] = []
        forEachChunk { chunk in
            buffer.append(contentsOf: chunk)
            var start = buffer.startIndex
            while let newline = buffer[start...].firstIndex(of: 0x0A) {
                body(String(decoding: buffer[start..<newline], as: UTF8.self))
                start = newline + 1
            }
            buffer.removeSubrange(..<start)
        }
    }

    /// Calls `body` with each chunk read until end of file (or a read error other than EINTR).
    private func forEachChunk(_ body: (ArraySlice<UInt8>) -> Void) {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count > 0 {
                body(chunk[..<count])
            } else if count == 0 || errno != EINTR {
                return
            }
        }
    }
}
