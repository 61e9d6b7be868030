import BallotHarness
import BallotClient
import Foundation
import Testing

@testable import BallotServer

/// Every route behaves the same over HTTP/1.1 and HTTP/2, plaintext (h2c by prior knowledge) and
/// TLS (ALPN), as real clients see it: curl and nghttp (libnghttp2).
@Suite(.serialized) struct HTTPProtocolTests {
    @Test func curlGetsTheSameAnswersOverHTTP1AndHTTP2PriorKnowledge() async throws {
        try await TestEndpoint.with { endpoint in
            for version in ["--http1.1", "--http2-prior-knowledge"] {
                let ok = await curl([version, "-i", "http://\(endpoint.base)/healthz"])
                #expect(ok.status == 0, "\(version): \(ok.error)")
                let expected = version == "--http1.1" ? "HTTP/1.1 200" : "HTTP/2 200"
                #expect(ok.output.hasPrefix(expected), "\(version): \(ok.output)")
                #expect(ok.output.hasSuffix("\r\n\r\nok\n"), "\(version): \(ok.output)")

                // HEAD on a GET route: the GET answer's headers, no body.
                let head = await curl([version, "-I", "http://\(endpoint.base)/healthz"])
                #expect(head.output.lowercased().contains("content-length: 3"), "\(version): \(head.output)")
                #expect(!head.output.hasSuffix("ok\n"), "\(version): \(head.output)")

                // 405 with Allow, in JSON.
                let wrongMethod = await curl([version, "-i", "-X", "DELETE", "http://\(endpoint.base)/healthz"])
                #expect(wrongMethod.output.contains(" 405"), "\(version): \(wrongMethod.output)")
                #expect(wrongMethod.output.lowercased().contains("allow: get, head"), "\(version): \(wrongMethod.output)")
                #expect(wrongMethod.output.contains("{\"error\":"), "\(version): \(wrongMethod.output)")

                // 404, in JSON, naming what the node serves.
                let missing = await curl([version, "-i", "http://\(endpoint.base)/nope"])
                #expect(missing.output.contains(" 404"), "\(version): \(missing.output)")
                #expect(missing.output.contains("/healthz"), "\(version): \(missing.output)")

                // A body reaches the route.
                let posted = await curl([version, "-d", "hello", "http://\(endpoint.base)/change"])
                #expect(posted.output == "{\"changed\":\"hello\"}\n", "\(version): \(posted.output) \(posted.error)")
            }
            #expect(endpoint.sample("ballot_http_requests_total{route=\"healthz\",code=\"200\"}") == 4)
            #expect(endpoint.sample("ballot_http_requests_total{route=\"healthz\",code=\"405\"}") == 2)
            #expect(endpoint.sample("ballot_http_requests_total{route=\"other\",code=\"404\"}") == 2)
            #expect(endpoint.sample("ballot_http_connections_accepted_total{protocol=\"http1\"}") ?? 0 >= 5)
            #expect(endpoint.sample("ballot_http_connections_accepted_total{protocol=\"http2\"}") ?? 0 >= 5)
        }
    }

    @Test func tlsOffersH2AndHTTP1ByALPN() async throws {
        let certificates = try await ThrowawayCertificates.make()
        defer { certificates.remove() }
        let tls = HTTPTLSFiles(certificate: certificates.serverCertificate, key: certificates.serverKey)
        try await TestEndpoint.with(tls: tls) { endpoint in
            let url = "https://127.0.0.1:\(endpoint.port)/healthz"
            let h2 = await curl(["--http2", "--cacert", certificates.ca, "-i", url])
            #expect(h2.status == 0, "\(h2.error)")
            #expect(h2.output.hasPrefix("HTTP/2 200"), "\(h2.output)")
            let h1 = await curl(["--http1.1", "--cacert", certificates.ca, "-i", url])
            #expect(h1.output.hasPrefix("HTTP/1.1 200"), "\(h1.output)")

            // nghttp (libnghttp2) over TLS: ALPN h2, and the same answer.
            let nghttp = await Subprocess.run(["nghttp"] + ["-v", "--no-verify-peer", url])
            #expect(nghttp.status == 0, "\(nghttp.output) \(nghttp.error)")
            #expect(nghttp.output.contains("The negotiated protocol: h2"), "\(nghttp.output)")
            #expect(nghttp.output.contains(":status: 200"), "\(nghttp.output)")

            // Plaintext to a TLS port gets nothing served.
            let plain = await curl(["--http1.1", "http://127.0.0.1:\(endpoint.port)/healthz"])
            #expect(plain.status != 0)

            // Ballot's own client over HTTPS.
            let target = try HTTPTarget(url: "https://127.0.0.1:\(endpoint.port)", tls: HTTPClientTLS(caFile: certificates.ca))
            let response = try await HTTPClient.request(.GET, target, path: "/healthz")
            #expect(response.status == 200 && response.text == "ok\n")
        }
    }

    @Test func nghttpSpeaksH2cByPriorKnowledge() async throws {
        try await TestEndpoint.with { endpoint in
            let nghttp = await Subprocess.run(["nghttp"] + ["-v", "http://\(endpoint.base)/healthz", "http://\(endpoint.base)/nope"])
            #expect(nghttp.status == 0, "\(nghttp.output) \(nghttp.error)")
            #expect(nghttp.output.contains(":status: 200"), "\(nghttp.output)")
            #expect(nghttp.output.contains(":status: 404"), "\(nghttp.output)")
        }
    }

    /// A stream (Server-Sent Events) arrives part by part over both protocols, and a blocking
    /// query longer than the idle timeout is answered: a connection is not idle while a request
    /// is being answered.
    @Test func streamsAndBlockingQueriesOutliveTheIdleTimeout() async throws {
        let limits = HTTPLimits(idleTimeout: .milliseconds(200), requestTimeout: .milliseconds(200))
        try await TestEndpoint.with(limits: limits) { endpoint in
            for version in ["--http1.1", "--http2-prior-knowledge"] {
                let events = await curl([version, "-N", "-i", "http://\(endpoint.base)/events"])
                #expect(events.status == 0, "\(version): \(events.error)")
                #expect(events.output.contains("data: event 1\n\ndata: event 2\n\ndata: event 3\n\n"), "\(version): \(events.output)")
                if version == "--http1.1" {
                    #expect(events.output.lowercased().contains("transfer-encoding: chunked"), "\(events.output)")
                }
                let waited = await curl([version, "http://\(endpoint.base)/wait?ms=600"])
                #expect(waited.output == "waited 600 ms\n", "\(version): \(waited.output) \(waited.error)")
            }
        }
    }

    /// Malformed HTTP/1.1 gets a 400 in the endpoint's JSON and the connection is closed; the
    /// endpoint goes on serving.
    @Test func malformedRequestsGet400InJSONAndNothingElseIsDisturbed() async throws {
        try await TestEndpoint.with { endpoint in
            for garbage in ["GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n"] {
                let connection = try await RawConnection.open(port: endpoint.port)
                try? await connection.send(garbage)
                #expect(await connection.wait(timeout: .seconds(3)) { _, closed in closed }, "\(garbage.debugDescription) was not refused")
                #expect(connection.received.hasPrefix("HTTP/1.1 400 "), "\(garbage.debugDescription): \(connection.received)")
                #expect(connection.received.contains("{\"error\":\"malformed HTTP/1.1 request"), "\(connection.received)")
                await connection.close()
            }
            #expect(endpoint.sample("ballot_http_connections_closed_total{reason=\"protocol_error\"}") == 3)
            let health = await curl(["http://\(endpoint.base)/healthz"])
            #expect(health.output == "ok\n")
        }
    }
}
