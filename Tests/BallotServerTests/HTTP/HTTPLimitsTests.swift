import BallotHarness
import BallotClient
import Foundation
import Glibc
import NIOSSL
import Testing

@testable import BallotServer

/// Each limit, on real sockets, plaintext and TLS, HTTP/1.1 and HTTP/2: slow heads are closed,
/// oversized heads get 431, idle connections are closed, the cap answers 503 only when nothing is
/// idle, and /healthz and /metrics keep answering with hundreds of idle connections open.
@Suite(.serialized) struct HTTPLimitsTests {
    static let shortLimits = HTTPLimits(idleTimeout: .milliseconds(400), requestTimeout: .milliseconds(400), maxHeadSize: 1024)

    @Test(arguments: [false, true]) func aHeadTrickledSlowerThanTheRequestTimeoutIsClosed(tls: Bool) async throws {
        try await Self.withEndpoint(tls: tls, limits: Self.shortLimits) { endpoint, clientTLS in
            let connection = try await RawConnection.open(port: endpoint.port, tls: clientTLS)
            try await connection.send("GET /healthz HTTP/1.1\r\n")
            // One header byte every 100 ms: always some progress, never a whole head.
            var sent = 0
            while !connection.isClosed, sent < 40 {
                try? await connection.send("X")
                sent += 1
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(await connection.waitForClose(timeout: .seconds(2)), "a trickled head must be cut off")
            #expect(sent < 15, "closed after \(sent) bytes; the deadline is 400 ms")
            #expect(!connection.received.contains("200"))
            await connection.close()
            #expect(endpoint.sample("ballot_http_connections_closed_total{reason=\"request_timeout\"}") ?? 0 >= 1)
        }
    }

    @Test(arguments: [false, true]) func anOversizedHeadGets431(tls: Bool) async throws {
        try await Self.withEndpoint(tls: tls, limits: Self.shortLimits) { endpoint, clientTLS in
            let connection = try await RawConnection.open(port: endpoint.port, tls: clientTLS)
            let filler = String(repeating: "a", count: 1500)
            try? await connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: \(filler)\r\n\r\n")
            let answered = await connection.wait(timeout: .seconds(3)) { received, _ in received.contains("\r\n\r\n{") }
            #expect(answered, "no answer: \(connection.received)")
            #expect(connection.received.hasPrefix("HTTP/1.1 431 "), "\(connection.received)")
            #expect(await connection.waitForClose(timeout: .seconds(3)))
            await connection.close()

            // A head just under the cap is served.
            let fits = try await RawConnection.open(port: endpoint.port, tls: clientTLS)
            try await fits.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: \(String(repeating: "a", count: 900))\r\n\r\n")
            #expect(await fits.wait(timeout: .seconds(3)) { received, _ in received.hasSuffix("ok\n") }, "\(fits.received)")
            await fits.close()
        }
    }

    /// Over HTTP/2 the head cap is SETTINGS_MAX_HEADER_LIST_SIZE: once the client has
    /// acknowledged it, a larger header block ends the connection (a protocol error, GOAWAY).
    @Test func anOversizedHTTP2HeaderBlockEndsTheConnection() async throws {
        try await TestEndpoint.with(limits: Self.shortLimits) { endpoint in
            let connection = try await RawConnection.open(port: endpoint.port)
            try await connection.send(HTTP2Bytes.preface + HTTP2Bytes.settings)
            #expect(await connection.wait(timeout: .seconds(2)) { received, _ in !received.isEmpty }, "no SETTINGS from the server")
            try await connection.send(HTTP2Bytes.settingsAcknowledgement)
            try await Task.sleep(for: .milliseconds(100))
            try? await connection.send(HTTP2Bytes.get(path: "/healthz", filler: 2000))
            #expect(await connection.waitForClose(timeout: .seconds(3)), "a header block over the cap must end the connection")
            #expect(!connection.received.contains("ok"))
            await connection.close()

            // Within the cap, the same request is served.
            let fits = try await RawConnection.open(port: endpoint.port)
            try await fits.send(HTTP2Bytes.preface + HTTP2Bytes.settings)
            try await fits.send(HTTP2Bytes.settingsAcknowledgement + HTTP2Bytes.get(path: "/healthz", filler: 500))
            #expect(await fits.wait(timeout: .seconds(2)) { received, _ in received.contains("ok\n") }, "\(fits.received)")
            await fits.close()
        }
    }

    @Test(arguments: [false, true]) func anIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout(tls: Bool) async throws {
        try await Self.withEndpoint(tls: tls, limits: Self.shortLimits) { endpoint, clientTLS in
            let connection = try await RawConnection.open(port: endpoint.port, tls: clientTLS)
            try await connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await connection.wait(timeout: .seconds(2)) { received, _ in received.hasSuffix("ok\n") })
            let answered = ContinuousClock.now
            #expect(await connection.waitForClose(timeout: .seconds(5)), "an idle connection must be closed")
            let waited = ContinuousClock.now - answered
            #expect(waited >= .milliseconds(300), "closed after \(waited), before the idle timeout")
            await connection.close()
            #expect(endpoint.sample("ballot_http_connections_closed_total{reason=\"idle_timeout\"}") ?? 0 >= 1)
        }
    }

    /// HTTP/2 prior knowledge that never opens a stream is closed at the first-request deadline,
    /// and one whose streams are done is closed at the idle timeout.
    @Test func http2ConnectionsWithoutStreamsAreClosed() async throws {
        try await TestEndpoint.with(limits: Self.shortLimits) { endpoint in
            let silent = try await RawConnection.open(port: endpoint.port)
            try await silent.send(HTTP2Bytes.preface + HTTP2Bytes.settings)
            #expect(await silent.waitForClose(timeout: .seconds(3)))
            await silent.close()

            let served = try await RawConnection.open(port: endpoint.port)
            try await served.send(HTTP2Bytes.preface + HTTP2Bytes.settings + HTTP2Bytes.get(path: "/nope"))
            #expect(await served.wait(timeout: .seconds(2)) { received, _ in received.contains("no such path") }, "\(served.received)")
            let answered = ContinuousClock.now
            #expect(await served.waitForClose(timeout: .seconds(3)), "an HTTP/2 connection with no open stream must be closed")
            #expect(ContinuousClock.now - answered >= .milliseconds(300))
            await served.close()
        }
    }

    /// At the cap: silent connections make room for new ones (the longest idle is closed), and
    /// only when every connection is busy is a new one answered 503 and closed.
    @Test(arguments: [false, true]) func theCapEvictsIdleConnectionsAndAnswers503WhenAllAreBusy(tls: Bool) async throws {
        var limits = HTTPLimits(idleTimeout: .seconds(30), requestTimeout: .seconds(30))
        limits.maxConnections = 3
        try await Self.withEndpoint(tls: tls, limits: limits) { endpoint, clientTLS in
            // Three connections that send nothing fill the cap; a fourth still gets /healthz.
            var silent: [RawConnection] = []
            for _ in 0..<3 {
                silent.append(try await RawConnection.open(port: endpoint.port, tls: clientTLS))
                try await Task.sleep(for: .milliseconds(100))  // so that the first is the longest idle
            }
            let fourth = try await RawConnection.open(port: endpoint.port, tls: clientTLS)
            try await fourth.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await fourth.wait(timeout: .seconds(3)) { received, _ in received.hasSuffix("ok\n") }, "\(fourth.received)")
            #expect(await silent[0].waitForClose(timeout: .seconds(3)), "the longest-idle connection makes room")
            #expect(endpoint.sample("ballot_http_connections_closed_total{reason=\"evicted\"}") == 1)

            // Now make every connection busy: each has started a request it does not finish.
            var busy: [RawConnection] = [fourth]
            try await fourth.send("GET /healthz HTTP/1.1\r\n")
            for connection in silent.dropFirst() {
                try await connection.send("GET /healthz HTTP/1.1\r\n")
                busy.append(connection)
            }
            try await Task.sleep(for: .milliseconds(200))
            let refused = try await RawConnection.open(port: endpoint.port, tls: clientTLS)
            try? await refused.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await refused.wait(timeout: .seconds(3)) { received, _ in received.contains("\r\n\r\n{") }, "\(refused.received)")
            #expect(refused.received.hasPrefix("HTTP/1.1 503 "), "\(refused.received)")
            #expect(refused.received.contains("Retry-After: 1"))
            #expect(await refused.waitForClose(timeout: .seconds(3)))
            #expect(endpoint.sample("ballot_http_connections_closed_total{reason=\"over_limit\"}") == 1)
            #expect(endpoint.sample("ballot_http_connections") == 3)
            for connection in busy + [silent[0], refused] { await connection.close() }
        }
    }

    @Test func curlIsRefusedWith503AtTheCap() async throws {
        var limits = HTTPLimits()
        limits.maxConnections = 1
        try await TestEndpoint.with(limits: limits) { endpoint in
            let busy = try await RawConnection.open(port: endpoint.port)
            try await busy.send("GET /wait?ms=5000 HTTP/1.1\r\nHost: x\r\n\r\n")  // busy being answered
            try await Task.sleep(for: .milliseconds(200))
            let refused = await curl(["-i", "http://\(endpoint.base)/healthz"])
            #expect(refused.output.hasPrefix("HTTP/1.1 503"), "\(refused.output) \(refused.error)")
            await busy.close()
        }
    }

    /// Issue 14's promise, scaled down for a test (the benchmark holds 5,000): with hundreds of
    /// idle connections open, `/healthz` and `/metrics` answer, and the idle connections are all
    /// closed by the idle timeout.
    @Test func healthAndMetricsAnswerWithHundredsOfIdleConnectionsOpen() async throws {
        raiseOpenFileLimit()
        let count = 500
        var limits = HTTPLimits(idleTimeout: .seconds(2), requestTimeout: .seconds(2))
        limits.maxConnections = count + 10
        try await TestEndpoint.with(limits: limits) { endpoint in
            var idle: [RawConnection] = []
            for _ in 0..<count { idle.append(try await RawConnection.open(port: endpoint.port)) }
            // Half of them have been served once and wait on keep-alive, half never sent anything.
            for connection in idle.prefix(count / 2) { try await connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") }
            for version in ["--http1.1", "--http2-prior-knowledge"] {
                let health = await curl([version, "http://\(endpoint.base)/healthz"])
                #expect(health.output == "ok\n", "\(version): \(health.error)")
                let metrics = await curl([version, "http://\(endpoint.base)/metrics"])
                #expect(metrics.output.contains("ballot_http_connections "), "\(version): \(metrics.error)")
            }
            #expect(endpoint.sample("ballot_http_connections") ?? 0 >= Double(count))
            var open = idle
            let deadline = ContinuousClock.now + .seconds(8)
            while !open.isEmpty, ContinuousClock.now < deadline {
                open = open.filter { !$0.isClosed }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(open.isEmpty, "\(open.count) of \(count) idle connections still open")
            for connection in idle { await connection.close() }
            #expect(endpoint.sample("ballot_http_connections") == 0)
        }
    }

    /// An endpoint with or without TLS, and the client TLS context the raw connections need.
    static func withEndpoint(
        tls: Bool, limits: HTTPLimits, _ body: (TestEndpoint, NIOSSLContext?) async throws -> Void
    ) async throws {
        guard tls else {
            try await TestEndpoint.with(limits: limits) { try await body($0, nil) }
            return
        }
        let certificates = try await ThrowawayCertificates.make()
        defer { certificates.remove() }
        let files = HTTPTLSFiles(certificate: certificates.serverCertificate, key: certificates.serverKey)
        let context = try clientTLS(certificates)
        try await TestEndpoint.with(limits: limits, tls: files) { try await body($0, context) }
    }
}

/// Hand-made HTTP/2 frames, for clients that do exactly what a test needs.
enum HTTP2Bytes {
    static let preface = HTTPProtocolSelector.http2Preface
    /// An empty SETTINGS frame.
    static let settings: [UInt8] = [0, 0, 0, 4, 0, 0, 0, 0, 0]
    static let settingsAcknowledgement: [UInt8] = [0, 0, 0, 4, 1, 0, 0, 0, 0]

    /// `GET path` on stream 1 (END_STREAM, END_HEADERS), with an `x-filler` header of `filler`
    /// bytes if asked; HPACK literals without Huffman coding.
    static func get(path: String, filler: Int = 0) -> [UInt8] {
        var block: [UInt8] = [0x82, 0x86]  // :method GET, :scheme http
        block += [0x04] + length(path.utf8.count) + Array(path.utf8)  // :path, literal value
        block += [0x01, 0x01, UInt8(ascii: "x")]  // :authority x
        if filler > 0 {
            block += [0x00] + length(8) + Array("x-filler".utf8) + length(filler) + [UInt8](repeating: UInt8(ascii: "a"), count: filler)
        }
        let size = block.count
        return [UInt8(size >> 16), UInt8((size >> 8) & 0xFF), UInt8(size & 0xFF), 1, 0x05, 0, 0, 0, 1] + block
    }

    /// An HPACK string length (7-bit prefix integer, no Huffman).
    private static func length(_ value: Int) -> [UInt8] {
        guard value >= 127 else { return [UInt8(value)] }
        var rest = value - 127
        var bytes: [UInt8] = [127]
        while rest >= 128 {
            bytes.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        return bytes + [UInt8(rest)]
    }
}

/// Raises this test process's own open-file limit to its hard limit (for hundreds of connections).
func raiseOpenFileLimit() {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}
