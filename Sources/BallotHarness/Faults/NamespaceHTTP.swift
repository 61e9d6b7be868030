import Foundation
import Glibc

/// A tiny blocking HTTP/1.1 GET into another network namespace, without spawning a process: a
/// dedicated thread enters the namespace (`setns`, which affects only that thread), creates the
/// socket there — a socket stays in the namespace it was created in — and goes back at once. So
/// nodes that bind HTTP on 127.0.0.1 inside their own namespaces can be polled hard and cheaply.
public enum NamespaceHTTP {
    /// `GET http://127.0.0.1:port/path` inside namespace `name` (`/var/run/netns/<name>`).
    public static func get(namespace name: String, port: Int, path: String, timeout: Duration) async -> (status: Int, body: String)? {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(returning: blockingGet(namespace: name, port: port, path: path, timeout: timeout))
            }
        }
    }

    static func blockingGet(namespace name: String, port: Int, path: String, timeout: Duration) -> (status: Int, body: String)? {
        guard let fd = socketInNamespace(name) else { return nil }
        defer { close(fd) }
        let deadline = ContinuousClock.now + timeout
        var slice = timeval(tv_sec: Int(timeout.components.seconds),
                            tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &slice, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &slice, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == request.count else { return nil }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        for _ in 0..<10_000 where ContinuousClock.now < deadline {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            received += buffer[0..<n]
            if let response = parse(received), response.complete { return (response.status, response.body) }
        }
        guard let response = parse(received), response.complete || !received.isEmpty else { return nil }
        return response.complete ? (response.status, response.body) : nil
    }

    /// A TCP socket created inside the namespace; the calling thread returns to its own namespace.
    static func socketInNamespace(_ name: String) -> Int32? {
        let target = open("/var/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
        guard target >= 0 else { return nil }
        defer { close(target) }
        let home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard home >= 0 else { return nil }
        defer { close(home) }
        guard let setns = Self.setns, setns(target, Self.cloneNewNet) == 0 else { return nil }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        // If the thread cannot go home it must not run anything else: stop the process loudly.
        guard setns(home, Self.cloneNewNet) == 0 else { fatalError("cannot return from network namespace \(name)") }
        return fd >= 0 ? fd : nil
    }

    /// glibc's `setns(2)` wrapper, which the Glibc module does not import (it needs `_GNU_SOURCE`).
    static let setns: (@convention(c) (Int32, Int32) -> Int32)? = {
        guard let symbol = dlsym(nil, "setns") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
    }()

    /// `CLONE_NEWNET` from <sched.h>.
    static let cloneNewNet: Int32 = 0x4000_0000

    /// Status and body once the headers and `Content-Length` bytes of body have arrived.
    static func parse(_ bytes: [UInt8]) -> (status: Int, body: String, complete: Bool)? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0...max(0, bytes.count - 4)).first(where: { bytes.count >= 4 && Array(bytes[$0..<$0 + 4]) == separator })
        else { return nil }
        let head = String(decoding: bytes[0..<end], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1."),
              let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "")
        else { return nil }
        let length = lines.dropFirst().compactMap { line -> Int? in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
            return Int(parts[1].trimmingCharacters(in: .whitespaces))
        }.first
        let body = bytes[(end + 4)...]
        let complete = length.map { body.count >= $0 } ?? false
        return (status, String(decoding: body.prefix(length ?? body.count), as: UTF8.self), complete)
    }
}
