import BallotBuildInfo
import BallotClient
import BallotCore
import BallotHarness
import Foundation
import Testing

/// Issue 16, item 10: with advertised HTTP URLs, one node answers for the whole cluster —
/// `ballot status --http ANY` shows every member's own report, and `POST /transfer` on a follower
/// is carried out through the leader with the caller's credentials.
@Suite(.serialized) struct ClusterStatusTests {
    static let token = "s3cret-token-\(UInt32.random(in: 0...UInt32.max))"

    @Test func oneNodeAnswersForTheClusterAndForwardsTransfers() async throws {
        let directory = temporaryDirectory("cluster-status")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tokenFile = directory + "/token"
        try Self.token.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        chmod(tokenFile, 0o600)
        var settings = LocalCluster.Settings()
        settings.peerBasePort = LoopbackPorts.consecutiveFree(3, from: Int.random(in: 20_000...50_000))
        settings.httpBasePort = LoopbackPorts.consecutiveFree(3, from: settings.peerBasePort + 3)
        settings.electionTimeout = "300ms"
        settings.heartbeatInterval = "50ms"
        settings.advertiseHTTP = true
        settings.extraArguments = ["--http-token-file", tokenFile]
        let cluster = LocalCluster(settings: settings, binary: try ballotBinary(), dataDirectory: directory + "/data")
        try await cluster.whileRunning {
            let first = try #require(await cluster.waitForLeader(timeout: .seconds(15)))
            let follower = try #require(cluster.nodes.first { $0.id.rawValue != first.self_ })
            // Every member's advertised URL reaches the follower through member_info.
            var output = ""
            for _ in 0..<100 {
                output = try Self.runStatus(port: follower.httpPort)
                if output.components(separatedBy: "via http://").count == 3 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            // The asked node's row (via the address given), and each peer's from its advertised URL.
            let rows = output.split(separator: "\n").filter { $0.contains(" via ") }
            #expect(rows.count == 3, "one row per member, each from its own report:\n\(output)")
            #expect(rows.filter { $0.contains("via http://127.0.0.1:") }.count == 2, "\(output)")
            #expect(rows.filter { $0.contains("leader*") }.count == 1, "\(output)")
            let leaderRow = rows.first { $0.hasPrefix("\(first.self_) ") }
            #expect(leaderRow?.contains("leader*") == true && leaderRow?.contains(" ms") == true, "lease shown: \(output)")
            // Each row carries its node's version (the VERSION column is never "-" for a report).
            let version = BuildInfo.version
            #expect(rows.allSatisfy { $0.contains(version) }, "version \(version) in every row:\n\(output)")

            // A transfer asked of a follower: refused without the token, carried out with it.
            let target = try #require(cluster.nodes.first { $0.id.rawValue != first.self_ && $0.id != follower.id })
            let anonymous = try await HTTPClient.request(.POST, host: "127.0.0.1", port: follower.httpPort,
                                                         path: "/transfer?to=\(target.id)", timeout: .seconds(10))
            #expect(anonymous.status == 401, "\(anonymous.status) \(anonymous.text)")
            let authorized = try await HTTPClient.request(
                .POST, HTTPTarget(address: try SocketAddressSpec(validatingHost: "127.0.0.1", port: follower.httpPort), bearerToken: Self.token),
                path: "/transfer?to=\(target.id)", timeout: .seconds(10))
            #expect(authorized.status == 200, "\(authorized.status) \(authorized.text)")
            #expect(authorized.headers.contains { $0.0.lowercased() == "ballot-forwarded-to" && $0.1 == "\(first.self_)" })
            let next = try #require(await cluster.waitForLeader(newerThan: first.term, timeout: .seconds(10)))
            #expect(next.self_ == target.id.rawValue)
            for node in cluster.nodes {
                #expect(!node.log.contains(Self.token), "node \(node.id) logged the bearer token")
            }
        }
    }

    /// `ballot status --http 127.0.0.1:PORT`'s standard output.
    static func runStatus(port: Int) throws -> String {
        let process = try ChildProcess(try ballotBinary(), arguments: ["status", "--http", "127.0.0.1:\(port)"],
                                       output: .pipe, error: .null)
        let text = process.standardOutput?.readText() ?? ""
        process.waitForExitBlocking(timeout: .seconds(60))
        return text
    }
}
