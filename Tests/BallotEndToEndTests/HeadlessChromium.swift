import BallotClient
import BallotHarness
import Foundation
import Glibc

/// Debian's `chromium`, headless, driven over the DevTools protocol on a loopback port: the status
/// page's tests load the page in a real browser engine and read what it shows while it runs.
///
/// One page target, one WebSocket to it (a minimal RFC 6455 client on a blocking socket with a
/// receive timeout, so every read is bounded). Not thread-safe: one test drives it.
final class HeadlessChromium {
    let process: ChildProcess
    let profile: String
    private let socket: WebSocket
    private var nextID = 0

    /// The browser binary (`chromium` from Debian; scripts/test.sh installs it).
    static func binary() throws -> String {
        for path in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] where FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        throw HarnessError("chromium not found: install Debian's `chromium` package (scripts/test.sh does it)")
    }

    /// Arguments every headless run here uses: no sandbox (tests run as root), no GPU, no first-run UI.
    static let commonArguments = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars", "--window-size=1280,860",
    ]

    /// Starts the browser on a free DevTools port and connects to its first page.
    init(startTimeout: Duration = .seconds(30)) async throws {
        profile = temporaryDirectory("chromium")
        process = try ChildProcess(
            try Self.binary(),
            arguments: Self.commonArguments + [
                "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "--user-data-dir=\(profile)",
                "about:blank",
            ],
            output: .null, error: .null)
        // Chromium writes the port it bound to into the profile (port 0 = any free port).
        let deadline = ContinuousClock.now + startTimeout
        var port: Int?
        while ContinuousClock.now < deadline, process.isRunning {
            if let text = try? String(contentsOfFile: profile + "/DevToolsActivePort", encoding: .utf8),
               let first = text.split(separator: "\n").first, let value = Int(first) {
                port = value
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        guard let port else {
            process.signal(SIGTERM)
            throw HarnessError("chromium did not open its DevTools port within \(startTimeout)")
        }
        var pagePath: String?
        while ContinuousClock.now < deadline, pagePath == nil {
            if let response = try? await HTTPClient.request(.GET, host: "127.0.0.1", port: port, path: "/json/list"),
               let targets = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]],
               let page = targets.first(where: { $0["type"] as? String == "page" }),
               let url = page["webSocketDebuggerUrl"] as? String, let range = url.range(of: "/devtools/") {
                pagePath = String(url[range.lowerBound...])
            } else {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        guard let pagePath else {
            process.signal(SIGTERM)
            throw HarnessError("chromium offered no page target on port \(port)")
        }
        socket = try WebSocket(port: port, path: pagePath)
    }

    deinit {
        socket.close()
        if process.signal(SIGKILL) { process.waitForExitBlocking(timeout: .seconds(30)) }
        try? FileManager.default.removeItem(atPath: profile)
    }

    /// Sends one DevTools command and returns its `result` (events that arrive meanwhile are skipped).
    @discardableResult
    func call(_ method: String, _ params: [String: Any] = [:]) throws -> [String: Any] {
        nextID += 1
        let id = nextID
        let message = try JSONSerialization.data(withJSONObject: ["id": id, "method": method, "params": params])
        try socket.send(Array(message))
        for _ in 0..<10_000 {
            let reply = try socket.receive()
            guard let object = try JSONSerialization.jsonObject(with: Data(reply)) as? [String: Any],
                  object["id"] as? Int == id
            else { continue }
            if let error = object["error"] { throw HarnessError("\(method) failed: \(error)") }
            return object["result"] as? [String: Any] ?? [:]
        }
        throw HarnessError("\(method): no answer among 10000 messages")
    }

    func navigate(_ url: String) throws {
        try call("Page.navigate", ["url": url])
    }

    /// The value of a JavaScript expression in the page (strings, numbers and booleans), or nil.
    func evaluate(_ expression: String) throws -> Any? {
        let result = try call("Runtime.evaluate", ["expression": expression, "returnByValue": true])
        return (result["result"] as? [String: Any])?["value"]
    }

    /// Polls `expression` until `accept` holds for its value (bounded), returning the last value.
    func waitFor(_ expression: String, timeout: Duration, until accept: (Any?) -> Bool) async throws -> Any? {
        let deadline = ContinuousClock.now + timeout
        var value: Any?
        while ContinuousClock.now < deadline {
            value = try evaluate(expression)
            if accept(value) { return value }
            try await Task.sleep(for: .milliseconds(200))
        }
        return value
    }

    /// A PNG of the page as it is drawn now.
    func screenshot() throws -> Data {
        let result = try call("Page.captureScreenshot", ["format": "png"])
        guard let base64 = result["data"] as? String, let data = Data(base64Encoded: base64) else {
            throw HarnessError("Page.captureScreenshot returned no image")
        }
        return data
    }
}

/// The client half of RFC 6455 on a blocking TCP socket to 127.0.0.1: text frames out (masked, as
/// a client must), whole messages in (continuation frames joined, pings answered). Every read waits
/// at most `readTimeout`.
final class WebSocket {
    private let fd: Int32

    init(port: Int, path: String, readTimeout: Int = 15) throws {
        fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket: errno \(errno)") }
        var timeout = timeval(tv_sec: readTimeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            throw HarnessError("connect to 127.0.0.1:\(port): errno \(errno)")
        }
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        try write(Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n".utf8))
        var head: [UInt8] = []
        while !head.suffix(4).elementsEqual([13, 10, 13, 10]) {
            head += try read(1)
            if head.count > 16_384 { throw HarnessError("WebSocket handshake: answer head too long") }
        }
        let status = String(decoding: head, as: UTF8.self)
        guard status.hasPrefix("HTTP/1.1 101") else { throw HarnessError("WebSocket handshake refused: \(status)") }
    }

    func close() { Glibc.close(fd) }

    func send(_ payload: [UInt8]) throws {
        try sendFrame(0x81, payload)
    }

    /// One frame with the given first byte (FIN and opcode), masked.
    private func sendFrame(_ first: UInt8, _ payload: [UInt8]) throws {
        var frame: [UInt8] = [first]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            frame.append(0x80 | 126)
            frame += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            frame.append(0x80 | 127)
            frame += (0..<8).reversed().map { UInt8((UInt64(payload.count) >> (UInt64($0) * 8)) & 0xFF) }
        }
        let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        try write(frame)
    }

    /// The next whole text or binary message.
    func receive() throws -> [UInt8] {
        var message: [UInt8] = []
        for _ in 0..<100_000 {
            let head = try read(2)
            let final = head[0] & 0x80 != 0
            let opcode = head[0] & 0x0F
            var length = Int(head[1] & 0x7F)
            if length == 126 {
                length = try read(2).reduce(0) { $0 << 8 | Int($1) }
            } else if length == 127 {
                length = try read(8).reduce(0) { $0 << 8 | Int($1) }
            }
            let mask = head[1] & 0x80 != 0 ? try read(4) : []
            var payload = try read(length)
            if !mask.isEmpty { payload = payload.enumerated().map { $0.element ^ mask[$0.offset % 4] } }
            switch opcode {
            case 0x8: throw HarnessError("the browser closed the DevTools connection")
            case 0x9: try sendFrame(0x8A, payload)  // ping: answer with a pong carrying its payload
            case 0xA: continue
            default:
                message += payload
                if final { return message }
            }
        }
        throw HarnessError("WebSocket: a message of more than 100000 frames")
    }

    private func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw HarnessError("WebSocket send: errno \(errno)") }
            offset += written
        }
    }

    private func read(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let got = bytes[offset...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard got > 0 else {
                throw HarnessError(got == 0 ? "the browser closed the DevTools connection" : "WebSocket read: errno \(errno) (timed out?)")
            }
            offset += got
        }
        return bytes
    }
}
