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

    @Test func curlSeesTheOversizedHeadRefusedOverHTTP2Too() async throws {
        try await TestEndpoint.with(limits: Self.shortLimits) { endpoint in
            let big = await curl(["--http2-prior-knowledge", "-H", "X-Filler: \(String(repeating: "a", count: 3000))",
                                "http://\(endpoint.base)/healthz"])
            #expect(big.status != 0 || !big.output.contains("ok"), "an HTTP/2 header list over the cap is refused: \(big.output)")
            let small = await curl(["--http2-prior-knowledge", "http://\(endpoint.base)/healthz"])
            #expect(small.output == "ok\n", "\(small.error)")
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
            try await silent.send(HTTPProtocolSelector.http2Preface + [0, 0, 0, 4, 0, 0, 0, 0, 0])  // preface + empty SETTINGS
            #expect(await silent.waitForClose(timeout: .seconds(3)))
            await silent.close()

            // nghttp keeps its connection open after its request only as long as we let it: curl
            // reusing one h2c connection for two requests 100 ms apart still works.
            let two = await curl(["--http2-prior-knowledge", "http://\(endpoint.base)/healthz", "http://\(endpoint.base)/wait?ms=100"])
            #expect(two.output == "ok\nwaited 100 ms\n", "\(two.output) \(two.error)")
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
            for _ in 0..<3 { silent.append(try await RawConnection.open(port: endpoint.port, tls: clientTLS)) }
            try await Task.sleep(for: .milliseconds(200))
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

/// Raises this test process's own open-file limit to its hard limit (for hundreds of connections).
func raiseOpenFileLimit() {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}
