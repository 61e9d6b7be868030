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
                let ok = try curl([version, "-i", "http://\(endpoint.base)/healthz"])
                #expect(ok.status == 0, "\(version): \(ok.stderr)")
                let expected = version == "--http1.1" ? "HTTP/1.1 200" : "HTTP/2 200"
                #expect(ok.stdout.hasPrefix(expected), "\(version): \(ok.stdout)")
                #expect(ok.stdout.hasSuffix("\r\n\r\nok\n"), "\(version): \(ok.stdout)")

                // HEAD on a GET route: the GET answer's headers, no body.
                let head = try curl([version, "-I", "http://\(endpoint.base)/healthz"])
                #expect(head.stdout.lowercased().contains("content-length: 3"), "\(version): \(head.stdout)")
                #expect(!head.stdout.hasSuffix("ok\n"), "\(version): \(head.stdout)")

                // 405 with Allow, in JSON.
                let wrongMethod = try curl([version, "-i", "-X", "DELETE", "http://\(endpoint.base)/healthz"])
                #expect(wrongMethod.stdout.contains(" 405"), "\(version): \(wrongMethod.stdout)")
                #expect(wrongMethod.stdout.lowercased().contains("allow: get, head"), "\(version): \(wrongMethod.stdout)")
                #expect(wrongMethod.stdout.contains("{\"error\":"), "\(version): \(wrongMethod.stdout)")

                // 404, in JSON, naming what the node serves.
                let missing = try curl([version, "-i", "http://\(endpoint.base)/nope"])
                #expect(missing.stdout.contains(" 404"), "\(version): \(missing.stdout)")
                #expect(missing.stdout.contains("/healthz"), "\(version): \(missing.stdout)")

                // A body reaches the route.
                let posted = try curl([version, "-d", "hello", "http://\(endpoint.base)/change"])
                #expect(posted.stdout == "{\"changed\":\"hello\"}\n", "\(version): \(posted.stdout) \(posted.stderr)")
            }
            #expect(endpoint.sample("ballot_http_requests_total{route=\"healthz\",code=\"200\"}") == 4)
            #expect(endpoint.sample("ballot_http_requests_total{route=\"healthz\",code=\"405\"}") == 2)
            #expect(endpoint.sample("ballot_http_requests_total{route=\"other\",code=\"404\"}") == 2)
            #expect(endpoint.sample("ballot_http_connections_accepted_total{protocol=\"http1\"}") ?? 0 >= 5)
            #expect(endpoint.sample("ballot_http_connections_accepted_total{protocol=\"http2\"}") ?? 0 >= 5)
        }
    }

    @Test func tlsOffersH2AndHTTP1ByALPN() async throws {
        let certificates = try TestCertificates.make()
        defer { certificates.remove() }
        let tls = HTTPTLSFiles(certificate: certificates.serverCertificate, key: certificates.serverKey)
        try await TestEndpoint.with(tls: tls) { endpoint in
            let url = "https://127.0.0.1:\(endpoint.port)/healthz"
            let h2 = try curl(["--http2", "--cacert", certificates.ca, "-i", url])
            #expect(h2.status == 0, "\(h2.stderr)")
            #expect(h2.stdout.hasPrefix("HTTP/2 200"), "\(h2.stdout)")
            let h1 = try curl(["--http1.1", "--cacert", certificates.ca, "-i", url])
            #expect(h1.stdout.hasPrefix("HTTP/1.1 200"), "\(h1.stdout)")

            // nghttp (libnghttp2) over TLS: ALPN h2, and the same answer.
            let nghttp = try runTool("/usr/bin/nghttp", ["-v", "--no-verify-peer", url])
            #expect(nghttp.status == 0, "\(nghttp.stdout) \(nghttp.stderr)")
            #expect(nghttp.stdout.contains("h2 is negotiated"), "\(nghttp.stdout)")
            #expect(nghttp.stdout.contains(":status: 200"), "\(nghttp.stdout)")

            // Plaintext to a TLS port gets nothing served.
            let plain = try curl(["--http1.1", "http://127.0.0.1:\(endpoint.port)/healthz"])
            #expect(plain.status != 0)

            // Ballot's own client over HTTPS.
            let target = try HTTPTarget(url: "https://127.0.0.1:\(endpoint.port)", tls: HTTPClientTLS(caFile: certificates.ca))
            let response = try await HTTPClient.request(.GET, target, path: "/healthz")
            #expect(response.status == 200 && response.text == "ok\n")
        }
    }

    @Test func nghttpSpeaksH2cByPriorKnowledge() async throws {
        try await TestEndpoint.with { endpoint in
            let nghttp = try runTool("/usr/bin/nghttp", ["-v", "http://\(endpoint.base)/healthz", "http://\(endpoint.base)/nope"])
            #expect(nghttp.status == 0, "\(nghttp.stdout) \(nghttp.stderr)")
            #expect(nghttp.stdout.contains(":status: 200"), "\(nghttp.stdout)")
            #expect(nghttp.stdout.contains(":status: 404"), "\(nghttp.stdout)")
        }
    }

    /// A stream (Server-Sent Events) arrives part by part over both protocols, and a blocking
    /// query longer than the idle timeout is answered: a connection is not idle while a request
    /// is being answered.
    @Test func streamsAndBlockingQueriesOutliveTheIdleTimeout() async throws {
        let limits = HTTPLimits(idleTimeout: .milliseconds(200), requestTimeout: .milliseconds(200))
        try await TestEndpoint.with(limits: limits) { endpoint in
            for version in ["--http1.1", "--http2-prior-knowledge"] {
                let events = try curl([version, "-N", "-i", "http://\(endpoint.base)/events"])
                #expect(events.status == 0, "\(version): \(events.stderr)")
                #expect(events.stdout.contains("data: event 1\n\ndata: event 2\n\ndata: event 3\n\n"), "\(version): \(events.stdout)")
                if version == "--http1.1" {
                    #expect(events.stdout.lowercased().contains("transfer-encoding: chunked"), "\(events.stdout)")
                }
                let waited = try curl([version, "http://\(endpoint.base)/wait?ms=600"])
                #expect(waited.stdout == "waited 600 ms\n", "\(version): \(waited.stdout) \(waited.stderr)")
            }
        }
    }
}
