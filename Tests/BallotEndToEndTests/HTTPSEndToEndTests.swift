import BallotClient
import BallotCore
import BallotHarness
import Foundation
import Testing

/// Issue 14 on real processes: a node serving HTTPS (ALPN h2 and http/1.1) with a bearer token
/// and an admin listener, scraped by a real Prometheus over TLS, read by `ballot status` over
/// https, and refusing `ballot transfer` without the token.
@Suite(.serialized) struct HTTPSEndToEndTests {
    @Test func prometheusScrapesATLSNodeAndTheClientCommandsUseHTTPSAndTheToken() async throws {
        let prometheusBinary = try PrometheusEndToEndTests.prometheusPath()
        let certificates = try await ThrowawayCertificates.make()
        defer { certificates.remove() }
        let tokenFile = certificates.directory + "/token"
        let token = "e2e-token-0123456789abcdef"
        try (token + "\n").write(toFile: tokenFile, atomically: true, encoding: .utf8)
        chmod(tokenFile, 0o600)
        let adminPort = LoopbackPorts.consecutiveFree(1, from: Int.random(in: 50_000...55_000))
        let extra = [
            "--http-tls-cert", certificates.serverCertificate, "--http-tls-key", certificates.serverKey,
            "--http-token-file", tokenFile, "--admin-http", "127.0.0.1:\(adminPort)",
        ]
        let clientTLS = try HTTPClientTLS(caFile: certificates.ca)
        try await withCluster(nodes: 1, extra: extra, httpTLS: clientTLS) { cluster in
            _ = try #require(await cluster.waitForLeader(timeout: .seconds(15)))
            let node = cluster.nodes[0]

            // A real Prometheus scrapes it over TLS.
            let directory = temporaryDirectory("prometheus-tls")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let port = LoopbackPorts.consecutiveFree(1, from: Int.random(in: 40_000...50_000))
            let config = """
                global: {scrape_interval: 1s, scrape_timeout: 900ms}
                scrape_configs:
                  - job_name: ballot
                    scheme: https
                    tls_config: {ca_file: \(certificates.ca)}
                    static_configs: [{targets: ['127.0.0.1:\(node.httpPort)'], labels: {cluster: tls}}]
                """
            let prometheus = try PrometheusAPI.start(prometheusBinary, config: config, in: directory, port: port)
            defer { prometheus.terminate() }
            let api = PrometheusAPI(port: port)
            let deadline = ContinuousClock.now + .seconds(30)
            var scraped = 0.0
            while ContinuousClock.now < deadline {
                scraped = (try? await api.query("ballot_http_requests_total{route=\"metrics\",code=\"200\"}"))?.first?.value ?? 0
                if scraped >= 2 { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(try await api.query("up{job=\"ballot\"}").first?.value == 1, "Prometheus does not scrape the TLS target")
            #expect(scraped >= 2, "the node counted no scrapes of /metrics")
            // Prometheus negotiates HTTP/2 by ALPN (nothing else here speaks HTTP/2 to the node).
            let http2 = try await api.query("ballot_http_connections_accepted_total{protocol=\"http2\"}").first?.value ?? 0
            #expect(http2 >= 1, "Prometheus did not scrape over HTTP/2")

            // `ballot status` over https with the CA.
            let status = try await runBallot(["status", "--http", "https://127.0.0.1:\(node.httpPort)", "--cacert", certificates.ca])
            #expect(status.status == 0, "\(status.stderr)")

            // `ballot transfer` on the main listener: not served there (admin listener only).
            let onMain = try await runBallotOutput(["transfer", "--http", "https://127.0.0.1:\(node.httpPort)", "--cacert",
                                                    certificates.ca, "--token-file", tokenFile, "--to", "2"])
            #expect(onMain.status != 0 && onMain.output.contains("admin listener"), "\(onMain.output)")
            // On the admin listener without the token: refused, and the answer says how to authorize.
            let noToken = try await runBallotOutput(["transfer", "--http", "https://127.0.0.1:\(adminPort)", "--cacert",
                                                     certificates.ca, "--to", "2"])
            #expect(noToken.status != 0 && noToken.output.contains("Authorization: Bearer"), "\(noToken.output)")
            // With the token: authorized; a one-node cluster has nobody to hand over to, so the
            // transfer itself is refused by the node, not by the HTTP layer.
            let withToken = try await runBallotOutput(["transfer", "--http", "https://127.0.0.1:\(adminPort)", "--cacert",
                                                       certificates.ca, "--token-file", tokenFile, "--to", "2"])
            #expect(!withToken.output.contains("credential"), "\(withToken.output)")
            #expect(!node.log.contains(token), "the token must never be logged")
        }
    }
}

/// Runs `ballot` and returns its exit status and standard output (bounded in time).
func runBallotOutput(_ arguments: [String]) async throws -> (status: Int32, output: String) {
    let result = await Subprocess.run([try ballotBinary()] + arguments, timeout: .seconds(30))
    return (result.status, result.output + result.error)
}
