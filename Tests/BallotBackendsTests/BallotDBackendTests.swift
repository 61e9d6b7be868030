import BallotClient
import BallotCore
import BallotHarness
import Foundation
import Glibc
import Testing

/// `ballotd --backend etcd|zookeeper` as a real process: the deployable binary takes the backend
/// settings from every layer of the one settings catalogue, refuses Raft's, and serves the same
/// HTTP surface as a Raft node (HTTPS with ALPN h2, the admin listener, the bearer token).
@Suite("ballotd with a backend", .serialized)
struct BallotDBackendTests {
    @Test("ballotd elected through etcd serves HTTPS with h2, the admin listener and the bearer token")
    func ballotdServesTheHTTPSurface() async throws {
        let service = try await CoordinationService.start("etcd", servers: 1)
        defer { Task { await service.stop() } }
        let certificates = try await ThrowawayCertificates.make()
        defer { certificates.remove() }
        let tokenFile = certificates.directory + "/token"
        let token = "backend-token-0123456789abcdef"
        try (token + "\n").write(toFile: tokenFile, atomically: true, encoding: .utf8)
        chmod(tokenFile, 0o600)
        let ports = LoopbackPorts.consecutiveFree(2, from: Int.random(in: 20_000...50_000))
        let adminPort = ports + 1
        var settings = LocalCluster.Settings()
        settings.nodes = 1
        settings.nodeBinary = try ballotdBinary()
        settings.backend = "etcd"
        settings.backendArguments = service.nodeArguments + ["--election", "surface", "--lease-ttl", "2s"]
        settings.httpBasePort = ports
        settings.extraArguments = [
            "--http-tls-cert", certificates.serverCertificate, "--http-tls-key", certificates.serverKey,
            "--http-token-file", tokenFile, "--admin-http", "127.0.0.1:\(adminPort)",
        ]
        settings.httpTLS = try HTTPClientTLS(caFile: certificates.ca)
        let directory = temporaryDirectory("ballotd-surface")
        let local = LocalCluster(settings: settings, binary: try ballotBinary(), dataDirectory: directory)
        try await local.whileRunning {
            let leader = try #require(await local.waitForLeader(timeout: .seconds(30)), "ballotd never led through etcd")
            #expect(leader.self_ == 1 && leader.term > 0, "the fencing token is etcd's creation revision")
            let node = local.nodes[0]

            // HTTP/2 by ALPN, from a real client.
            let nghttp = await Subprocess.run(["nghttp", "-v", "--no-verify-peer", "https://127.0.0.1:\(node.httpPort)/leader"])
            #expect(nghttp.status == 0, "\(nghttp.output) \(nghttp.error)")
            #expect(nghttp.output.contains("The negotiated protocol: h2"), "\(nghttp.output)")

            // The scrape over TLS: reads are open, the backend is named and its session is up.
            let main = try local.httpTarget(of: node.id)
            let metrics = try await HTTPClient.request(.GET, main, path: "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.text.contains("backend=\"etcd\""), "ballot_build_info names the backend")
            #expect(value("\n" + metrics.text, "ballot_coordination_connected") == 1)
            #expect((value("\n" + metrics.text, "ballot_http_connections_accepted_total{protocol=\"http2\"}") ?? 0) >= 1,
                    "nghttp's connection is counted as HTTP/2")

            // Changes only on the admin listener, only with the token; a backend cannot hand over.
            let onMain = try await HTTPClient.request(.POST, main, path: "/transfer?to=2")
            #expect(onMain.status != 200 && onMain.text.contains("admin"), "\(onMain.status) \(onMain.text)")
            var admin = HTTPTarget(address: try SocketAddressSpec(validatingHost: "127.0.0.1", port: adminPort),
                                   tls: settings.httpTLS)
            let anonymous = try await HTTPClient.request(.POST, admin, path: "/transfer?to=2")
            #expect(anonymous.status == 401, "\(anonymous.status) \(anonymous.text)")
            admin.bearerToken = token
            let authorized = try await HTTPClient.request(.POST, admin, path: "/transfer?to=2")
            #expect(authorized.status == 409 && authorized.text.contains("etcd"), "\(authorized.status) \(authorized.text)")
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    @Test("ballotd takes the backend from BALLOT_* variables and refuses Raft's settings from any layer")
    func ballotdSettingsFromEveryLayer() async throws {
        let binary = try ballotdBinary()
        let directory = temporaryDirectory("ballotd-layers")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/ballotd.yaml"
        try "backend: zookeeper\nzookeeper: [127.0.0.1:2181]\nheartbeat_interval: 100ms\n"
            .write(toFile: file, atomically: true, encoding: .utf8)

        let printed = await Subprocess.run([
            "/usr/bin/env", "BALLOT_BACKEND=etcd", "BALLOT_ETCD_ENDPOINTS=http://127.0.0.1:2379", "BALLOT_LEASE_TTL=3s",
            binary, "--id", "1", "--data-dir", directory, "--election", "orders", "--print-config",
        ])
        #expect(printed.status == 0, "\(printed.error)")
        #expect(printed.output.contains("backend: etcd") && printed.output.contains("# BALLOT_BACKEND"), "\(printed.output)")
        #expect(printed.output.contains("lease_ttl: 3s") && printed.output.contains("election: orders"), "\(printed.output)")
        #expect(!printed.output.contains("election_timeout") && !printed.output.contains("listen:"),
                "Raft's settings are not shown for an etcd node: \(printed.output)")

        let cases: [([String], String)] = [
            (["/usr/bin/env", "BALLOT_LISTEN=127.0.0.1:7001", binary, "--backend", "etcd", "--etcd-endpoints", "http://127.0.0.1:2379"],
             "ballotd: BALLOT_LISTEN is not used with --backend etcd"),
            ([binary, "--config", file], "heartbeat_interval in \(file) is not used with --backend zookeeper"),
            ([binary, "--backend", "etcd", "--etcd-endpoints", "http://127.0.0.1:2379", "--members", "3"],
             "--members is not used with --backend etcd"),
        ]
        for (arguments, message) in cases {
            let result = await Subprocess.run(arguments + ["--id", "1", "--data-dir", directory], timeout: .seconds(20))
            #expect(result.status == 78, "\(arguments): status \(result.status), \(result.error)")
            #expect(result.error.contains(message), "\(arguments): \(result.error)")
        }
    }
}

/// The `ballotd` binary under test: `BALLOTD_BINARY`, else the one next to the `ballot` under test.
func ballotdBinary() throws -> String {
    if let path = ProcessInfo.processInfo.environment["BALLOTD_BINARY"], !path.isEmpty { return path }
    let path = URL(fileURLWithPath: try ballotBinary()).deletingLastPathComponent().appendingPathComponent("ballotd").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw TestFailure("no ballotd binary at \(path); run `swift build` first or set BALLOTD_BINARY")
    }
    return path
}
