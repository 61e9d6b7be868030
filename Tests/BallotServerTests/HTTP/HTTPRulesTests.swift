import BallotHarness
import NIOCore
import NIOHTTP1
import Testing

@testable import BallotServer

/// The rules without sockets: the route table, the connection clock's deadlines, the head scanner
/// and the access decisions.
@Suite struct HTTPRulesTests {
    @Test func theRouterAddsHeadToGetAndAnswers405WithAllow() {
        var router = HTTPRouter()
        router.add("a", .GET, path: "/a") { _ in .text(.ok, "a") }
        router.add("b", .POST, path: "/b", access: .change) { _ in .text(.ok, "b") }
        #expect(router.routeNames == ["a", "b", "other"])
        guard case .route(let a, let headOnly) = router.match(method: .HEAD, path: "/a") else {
            Issue.record("HEAD /a must be served")
            return
        }
        #expect(a.name == "a" && headOnly)
        guard case .route(_, false) = router.match(method: .GET, path: "/a") else {
            Issue.record("GET /a must be served with its body")
            return
        }
        guard case .methodNotAllowed(let b) = router.match(method: .GET, path: "/b") else {
            Issue.record("GET /b is not allowed")
            return
        }
        #expect(b.allowHeader == "POST" && b.access == .change)
        #expect(a.allowHeader == "GET, HEAD")
        guard case .notFound = router.match(method: .GET, path: "/c") else {
            Issue.record("/c does not exist")
            return
        }
    }

    @Test func aHeadIsMeasuredToItsBlankLine() {
        var scanner = HeadScanner()
        #expect(scanner.scan(Array("GET / HTTP/1.1\r\nHost: x\r\n".utf8), limit: 100) == .incomplete)
        #expect(scanner.scan(Array("\r\nbody bytes".utf8), limit: 100) == .complete)
        var bare = HeadScanner()
        #expect(bare.scan(Array("GET / HTTP/1.1\nHost: x\n\n".utf8), limit: 100) == .complete)
        var large = HeadScanner()
        #expect(large.scan(Array("GET / HTTP/1.1\r\nX: \(String(repeating: "y", count: 200))\r\n\r\n".utf8), limit: 100) == .tooLarge)
        var exact = HeadScanner()
        let head = Array("GET / HTTP/1.1\r\n\r\n".utf8)
        #expect(exact.scan(head, limit: head.count) == .complete)
    }

    @Test func theClockGivesEachPhaseItsDeadline() {
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        let limits = HTTPLimits(idleTimeout: .seconds(60), requestTimeout: .seconds(10), maxHeadSize: 1024)
        var clock = ConnectionClock(limits: limits, openedAt: start)
        // A new connection: its first request within the request timeout.
        #expect(clock.deadline?.at == start + .seconds(10) && clock.deadline?.reason == .requestTimeout)
        #expect(clock.isIdle)
        // Bytes of a request: the request timeout from the first byte.
        #expect(clock.read(ByteBuffer(string: "GET / HTTP/1.1\r\n"), at: start + .seconds(1)) == .forward)
        #expect(clock.deadline?.at == start + .seconds(11) && !clock.isIdle)
        // Being answered: no deadline at all (a blocking query, an event stream).
        clock.requestReceived(at: start + .seconds(2))
        #expect(clock.deadline == nil)
        // …unless the client stops reading.
        clock.writabilityChanged(false, at: start + .seconds(3))
        #expect(clock.deadline?.at == start + .seconds(63) && clock.deadline?.reason == .stalled)
        clock.writabilityChanged(true, at: start + .seconds(4))
        // Answered: the idle timeout from then.
        clock.responseFinished(at: start + .seconds(5))
        #expect(clock.deadline?.at == start + .seconds(65) && clock.deadline?.reason == .idleTimeout)
        #expect(clock.isIdle)
        // An oversized head.
        #expect(clock.read(ByteBuffer(string: String(repeating: "x", count: 2000)), at: start + .seconds(6)) == .headTooLarge)
    }

    @Test func http2CountsStreamsAndIgnoresFrameBytes() {
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        var clock = ConnectionClock(limits: HTTPLimits(idleTimeout: .seconds(60), requestTimeout: .seconds(10)), openedAt: start)
        clock.switchToHTTP2()
        #expect(clock.read(ByteBuffer(bytes: [UInt8](repeating: 0, count: 100_000)), at: start) == .forward)
        #expect(clock.deadline?.at == start + .seconds(10))
        clock.streamOpened(at: start + .seconds(1))
        clock.streamOpened(at: start + .seconds(1))
        #expect(clock.deadline == nil && !clock.isIdle)
        clock.streamClosed(at: start + .seconds(2))
        #expect(clock.deadline == nil)
        clock.streamClosed(at: start + .seconds(3))
        #expect(clock.deadline?.at == start + .seconds(63) && clock.isIdle)
    }

    @Test func accessNeedsACredentialOnlyWhereOneIsConfigured() throws {
        let token = try BearerToken("0123456789abcdef0123")
        let header: HTTPHeaders = ["Authorization": "Bearer 0123456789abcdef0123"]
        let wrong: HTTPHeaders = ["Authorization": "Bearer 0123456789abcdef0124"]
        let plain = HTTPConnectionInfo()
        #expect(HTTPAccessPolicy.open.decide(.change, headers: [:], connection: plain) == .allowed)
        let policy = HTTPAccessPolicy(token: token)
        #expect(policy.decide(.read, headers: [:], connection: plain) == .allowed)
        #expect(policy.decide(.change, headers: [:], connection: plain) == .missingCredential)
        #expect(policy.decide(.change, headers: wrong, connection: plain) == .wrongCredential)
        #expect(policy.decide(.change, headers: header, connection: plain) == .allowed)
        let reads = HTTPAccessPolicy(token: token, authorizeReads: true)
        #expect(reads.decide(.read, headers: [:], connection: plain) == .missingCredential)
        let certificates = HTTPAccessPolicy(acceptsClientCertificates: true)
        #expect(certificates.decide(.change, headers: [:], connection: plain) == .missingCredential)
        let verified = HTTPConnectionInfo(tls: true, verifiedClientCertificate: true)
        #expect(certificates.decide(.change, headers: [:], connection: verified) == .allowed)
        #expect(certificates.decide(.change, headers: header, connection: plain) == .wrongCredential)
    }
}
