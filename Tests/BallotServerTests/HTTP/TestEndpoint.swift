import BallotHarness
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Prometheus

@testable import BallotServer

/// An ``HTTPEndpoint`` on a free loopback port with a small route table of its own, so that the
/// HTTP surface is tested on real sockets without a node behind it:
/// `GET /healthz`, `GET /metrics` (this endpoint's own series), `POST /change` (changes),
/// `GET /wait?ms=N` (answers after N ms, a blocking query) and `GET /events` (a stream of three
/// events 100 ms apart, then the end).
struct TestEndpoint {
    let endpoint: HTTPEndpoint
    let registry: PrometheusCollectorRegistry
    let port: Int
    let adminPort: Int?

    var base: String { "127.0.0.1:\(port)" }

    static var router: HTTPRouter {
        var router = HTTPRouter()
        router.add("healthz", .GET, path: "/healthz") { _ in .text(.ok, "ok") }
        router.add("change", .POST, path: "/change", access: .change) { request in
            .json(["changed": String(decoding: request.body, as: UTF8.self)])
        }
        router.add("wait", .GET, path: "/wait") { request in
            let milliseconds = Int(request.queryValue("ms") ?? "0") ?? 0
            try? await Task.sleep(for: .milliseconds(milliseconds))
            return .text(.ok, "waited \(milliseconds) ms")
        }
        router.add("events", .GET, path: "/events") { _ in
            HTTPResponse(status: .ok, headers: ["Content-Type": "text/event-stream"], body: .stream { writer in
                for index in 1...3 {
                    try await writer.write("data: event \(index)\n\n")
                    try await Task.sleep(for: .milliseconds(100))
                }
            })
        }
        return router
    }

    /// Starts an endpoint, runs `body` against it, and stops it whatever happens.
    static func with<T>(
        limits: HTTPLimits = HTTPLimits(), tls: HTTPTLSFiles? = nil, access: HTTPAccessPolicy = .open,
        admin: Bool = false, routes: (inout HTTPRouter) -> Void = { _ in }, _ body: (TestEndpoint) async throws -> T
    ) async throws -> T {
        let registry = PrometheusCollectorRegistry()
        var logger = Logger(label: "http-test")
        logger.logLevel = .warning
        var router = Self.router
        routes(&router)
        router.add("metrics", .GET, path: "/metrics") { _ in
            HTTPResponse(status: .ok, contentType: "text/plain; version=0.0.4", body: Array(registry.emitToString().utf8))
        }
        let endpoint = try HTTPEndpoint(router: router, access: access, limits: limits, tls: tls,
                                        hasAdminListener: admin, registry: registry, logger: logger)
        let listener = try await endpoint.bind(host: "127.0.0.1", port: 0, role: .main)
        let adminListener = admin ? try await endpoint.bind(host: "127.0.0.1", port: 0, role: .admin) : nil
        let fixture = TestEndpoint(endpoint: endpoint, registry: registry, port: listener.port!, adminPort: adminListener?.port)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await endpoint.run(listener) }
            if let adminListener { group.addTask { try await endpoint.run(adminListener) } }
            defer { group.cancelAll() }
            return try await body(fixture)
        }
    }

    /// The value of one sample of this endpoint's exposition, e.g.
    /// `ballot_http_requests_total{route="healthz",code="200"}`; nil if absent.
    func sample(_ series: String) -> Double? {
        for line in registry.emitToString().split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }
}

/// `curl` with the given arguments; `-s -S` always, and a bounded run time.
func curl(_ arguments: [String]) async -> Subprocess.Result {
    await Subprocess.run(["curl", "-s", "-S", "--max-time", "10"] + arguments, timeout: .seconds(15))
}

/// A client TLS context trusting the test CA, offering `protocols` by ALPN.
func clientTLS(_ certificates: ThrowawayCertificates, protocols: [String] = ["http/1.1"]) throws -> NIOSSLContext {
    var configuration = TLSConfiguration.makeClientConfiguration()
    configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificates.ca))
    configuration.applicationProtocols = protocols
    return try NIOSSLContext(configuration: configuration)
}
