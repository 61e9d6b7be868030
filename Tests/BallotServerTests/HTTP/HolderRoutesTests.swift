import BallotCore
import BallotRuntime
import Foundation
import Testing

@testable import BallotServer

/// `GET /holder` and `POST /holder/stopped` on real sockets (issue 15, released hand-overs).
@Suite struct HolderRoutesTests {
    /// An endpoint serving the holder routes of `view`, at most `maximum` holders.
    func withHolderRoutes<T>(_ view: LeadershipView, maximum: Int,
                             _ body: (TestEndpoint) async throws -> T) async throws -> T {
        let hub = LeadershipEventHub(view: view)
        defer { hub.close() }
        let holders = HolderRoutes(view: view, hub: hub, maximumHolders: maximum)
        return try await TestEndpoint.with(routes: { router in
            router.add("holder", .GET, path: "/holder") { holders.stream($0) }
            router.add("holder_stopped", .POST, path: "/holder/stopped") { holders.stopped($0) }
        }, body)
    }

    /// Opens `GET /holder` and returns the connection once the head and the first event arrived.
    func openHolder(_ endpoint: TestEndpoint) async throws -> (RawConnection, id: String?) {
        let connection = try await RawConnection.open(port: endpoint.port)
        try await connection.send("GET /holder HTTP/1.1\r\nHost: \(endpoint.base)\r\n\r\n")
        await connection.wait(timeout: .seconds(5)) { received, closed in closed || received.contains("\n\n") }
        let id = connection.received.split(separator: "\r\n").first { $0.lowercased().hasPrefix("ballot-holder: ") }
            .map { String($0.dropFirst("ballot-holder: ".count)) }
        return (connection, id)
    }

    func post(_ endpoint: TestEndpoint, _ path: String) async throws -> (status: Int, body: String) {
        let connection = try await RawConnection.open(port: endpoint.port)
        defer { Task { await connection.close() } }
        try await connection.send("POST \(path) HTTP/1.1\r\nHost: \(endpoint.base)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await connection.wait(timeout: .seconds(5)) { _, closed in closed }
        let text = connection.received
        let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, String(text.split(separator: "\r\n\r\n", maxSplits: 1).last ?? ""))
    }

    @Test func holdersRegisterWhileTheirStreamIsOpenAndABoundedNumberOfThem() async throws {
        let view = LeadershipView(node: 1)
        try await withHolderRoutes(view, maximum: 2) { endpoint in
            let (first, firstID) = try await openHolder(endpoint)
            let (second, _) = try await openHolder(endpoint)
            #expect(first.received.hasPrefix("HTTP/1.1 200"), "\(first.received)")
            let id = try #require(firstID, "no Ballot-Holder header in \(first.received)")
            #expect(id.count == 32 && id.allSatisfy(\.isHexDigit))
            #expect(first.received.contains("event: state"))
            #expect(view.holderCount == 2)

            // A third is refused, and says why.
            let (third, thirdID) = try await openHolder(endpoint)
            #expect(third.received.hasPrefix("HTTP/1.1 503"), "\(third.received)")
            #expect(third.received.contains("2 lease holders are connected already") && thirdID == nil)
            #expect(view.holderCount == 2)

            // Confirmations: bad requests, a good one, and one for a closed stream.
            #expect(try await post(endpoint, "/holder/stopped?index=1").status == 400)
            #expect(try await post(endpoint, "/holder/stopped?id=\(id)&index=x").status == 400)
            let unknown = try await post(endpoint, "/holder/stopped?id=0123&index=1")
            #expect(unknown.status == 404 && unknown.body.contains("no lease holder 0123"), "\(unknown.body)")
            let stopped = try await post(endpoint, "/holder/stopped?id=\(id)&index=99")
            #expect(stopped.status == 200 && stopped.body.contains("\"stopped_through\":0"), "clamped to the view: \(stopped.body)")

            await first.close()
            let deadline = ContinuousClock.now + .seconds(5)
            while view.holderCount != 1, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(view.holderCount == 1, "a closed stream is no holder")
            #expect(try await post(endpoint, "/holder/stopped?id=\(id)&index=1").status == 404)
            await second.close()
            await third.close()
        }
    }
}
