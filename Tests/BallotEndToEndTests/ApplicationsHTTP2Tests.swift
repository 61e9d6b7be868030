import BallotClient
import BallotCore
import BallotHarness
import Foundation
import Glibc
import Testing

/// Issue 15's routes on main's HTTP surface: the same answers over HTTP/2 as over HTTP/1.1 — h2c
/// by prior knowledge and h2 over TLS — and the routes that change the node behind the bearer
/// token and the admin listener. curl is the client; `%{http_version}` proves which protocol ran.
@Suite(.serialized) struct ApplicationsHTTP2Tests {
    /// `curl` with the protocol it spoke: `(status, body, version)`, version "2" or "1.1".
    func fetch(_ arguments: [String], timeout: Duration = .seconds(20)) async throws -> (status: Int, body: String, version: String) {
        let text = try await curlOutput(["-w", "\n%{http_version} %{http_code}"] + arguments, timeout: timeout)
        guard let split = text.lastIndex(of: "\n") else { throw HarnessError("no status line in \(text)") }
        let line = text[text.index(after: split)...].split(separator: " ")
        guard line.count == 2, let status = Int(line[1]) else { throw HarnessError("bad status line in \(text)") }
        return (status, String(text[..<split]), String(line[0]))
    }

    @Test func blockingQueryEventsAndPrimaryOverH2C() async throws {
        try await withApplicationCluster { cluster in
            let leader = try #require(await cluster.waitForLeader(timeout: .seconds(15)))
            let old = try #require(NodeID(leader.self_))
            let follower = try #require(cluster.nodes.first { $0.id != old }).id
            let h2c = ["--http2-prior-knowledge"]
            func url(_ id: NodeID, _ path: String) -> String { "http://127.0.0.1:\(cluster.node(id).httpPort)\(path)" }

            // /primary, GET and HEAD, over h2c.
            let primary = try await fetch(h2c + [url(old, "/primary")])
            #expect(primary.status == 200 && primary.version == "2", "\(primary)")
            let head = try await fetch(h2c + ["-I", url(follower, "/primary")])
            #expect(head.status == 503 && head.version == "2", "\(head)")

            // An event stream and a blocking query, both on h2c streams, both see the resignation.
            let stream = try SSEStream(url: url(follower, "/events"), curlArguments: h2c)
            defer { stream.stop() }
            #expect(await stream.wait(timeout: .seconds(5)) { $0.first?.event == "state" })
            #expect(stream.headers.hasPrefix("http/2 200"), "\(stream.headers)")
            #expect(stream.headers.contains("content-type: text/event-stream"))
            let index = try #require(await cluster.leaderView(of: follower)).index
            let idle = ContinuousClock.now
            let unchanged = try await fetch(h2c + [url(follower, "/leader?index=\(index)&wait=300ms")])
            #expect(ContinuousClock.now - idle >= .milliseconds(300))
            #expect(unchanged.version == "2" && jsonObject(unchanged.body)?["index"] as? NSNumber == NSNumber(value: index))
            let waiting = Task { try await fetch(h2c + [url(follower, "/leader?index=\(index)&wait=30s")]) }
            try await Task.sleep(for: .milliseconds(300))
            let resigned = try await fetch(h2c + ["-X", "POST", url(old, "/resign")])
            #expect(resigned.status == 200 && resigned.version == "2", "\(resigned)")
            let woken = try await waiting.value
            #expect(woken.version == "2")
            #expect(((jsonObject(woken.body)?["index"] as? NSNumber)?.uint64Value ?? 0) > index, "\(woken.body)")
            #expect(await stream.wait(timeout: .seconds(10)) { events in
                events.contains { $0.event == "lost" && $0.number("previous") == old.rawValue }
                    && events.contains { $0.event == "elected" && $0.number("leader") != old.rawValue }
            })
            // The contract's keep-alive comment, every 15 s, on an HTTP/2 stream too.
            let keptAlive = ContinuousClock.now + .seconds(17)
            while stream.keepAlives == 0 && ContinuousClock.now < keptAlive { try await Task.sleep(for: .milliseconds(100)) }
            #expect(stream.keepAlives >= 1, "no : keep-alive within 17 s")
        }
    }

    @Test func overTLSWithATokenAndAnAdminListener() async throws {
        let certificates = try await ThrowawayCertificates.make()
        defer { certificates.remove() }
        let tokenFile = certificates.directory + "/token"
        let token = "apps-token-0123456789abcdef"
        try (token + "\n").write(toFile: tokenFile, atomically: true, encoding: .utf8)
        chmod(tokenFile, 0o600)
        let adminBase = LoopbackPorts.consecutiveFree(3, from: Int.random(in: 50_000...55_000))
        var perNode: [NodeID: [String]] = [:]
        for raw in UInt64(1)...3 { perNode[NodeID(raw)!] = ["--admin-http", "127.0.0.1:\(adminBase + Int(raw) - 1)"] }
        let extra = [
            "--http-tls-cert", certificates.serverCertificate, "--http-tls-key", certificates.serverKey,
            "--http-token-file", tokenFile,
        ]
        try await withApplicationCluster(extra: extra, perNode: perNode, httpTLS: try HTTPClientTLS(caFile: certificates.ca)) { cluster in
            let leader = try #require(await cluster.waitForLeader(timeout: .seconds(15)))
            let old = try #require(NodeID(leader.self_))
            let follower = try #require(cluster.nodes.first { $0.id != old }).id
            let tls = ["--http2", "--cacert", certificates.ca]
            func url(_ id: NodeID, _ path: String) -> String { "https://127.0.0.1:\(cluster.node(id).httpPort)\(path)" }
            func admin(_ id: NodeID, _ path: String) -> String { "https://127.0.0.1:\(adminBase + Int(id.rawValue) - 1)\(path)" }
            let bearer = ["-H", "Authorization: Bearer \(token)"]

            // Reads are open, over h2 (ALPN) and HTTP/1.1 alike.
            let primary = try await fetch(tls + [url(old, "/primary")])
            #expect(primary.status == 200 && primary.version == "2", "\(primary)")
            let primary1 = try await fetch(["--http1.1", "--cacert", certificates.ca, url(old, "/primary")])
            #expect(primary1.status == 200 && primary1.version == "1.1", "\(primary1)")
            let stream = try SSEStream(url: url(follower, "/events"), curlArguments: tls)
            defer { stream.stop() }
            #expect(await stream.wait(timeout: .seconds(5)) { $0.first?.event == "state" })
            #expect(stream.headers.hasPrefix("http/2 200"), "\(stream.headers)")

            // Changes: only on the admin listener, and only with the token.
            for (method, path, body) in [("POST", "/resign", ""), ("PUT", "/candidacy", "{\"eligible\": true}")] {
                let data = body.isEmpty ? [] : ["-d", body]
                let onMain = try await fetch(tls + ["-X", method] + data + bearer + [url(old, path)])
                #expect(onMain.status == 404 && onMain.body.contains("admin"), "\(method) \(path) on main: \(onMain)")
                let anonymous = try await fetch(tls + ["-X", method] + data + [admin(old, path)])
                #expect(anonymous.status == 401 && anonymous.body.contains("Bearer"), "\(method) \(path): \(anonymous)")
                let wrong = try await fetch(tls + ["-X", method] + data + ["-H", "Authorization: Bearer nope"] + [admin(old, path)])
                #expect(wrong.status == 403, "\(method) \(path) with a wrong token: \(wrong)")
            }
            #expect(await cluster.leaderView(of: old)?.isLeader == true, "no refused request changed anything")
            let index = try #require(await cluster.leaderView(of: follower)).index
            let waiting = Task { try await fetch(tls + [url(follower, "/leader?index=\(index)&wait=30s")]) }
            try await Task.sleep(for: .milliseconds(300))
            let resigned = try await fetch(tls + ["-X", "POST"] + bearer + [admin(old, "/resign")])
            #expect(resigned.status == 200 && resigned.version == "2", "\(resigned)")
            let woken = try await waiting.value
            #expect(woken.version == "2" && ((jsonObject(woken.body)?["index"] as? NSNumber)?.uint64Value ?? 0) > index)
            #expect(await stream.wait(timeout: .seconds(10)) { $0.contains { $0.event == "lost" } })
            let candidacy = try await fetch(tls + ["-X", "PUT", "-d", "{\"eligible\": false}"] + bearer + [admin(follower, "/candidacy")])
            #expect(candidacy.status == 200 && jsonObject(candidacy.body)?["eligible"] as? Bool == false, "\(candidacy)")
        }
    }
}
