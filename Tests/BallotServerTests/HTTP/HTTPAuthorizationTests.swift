import BallotHarness
import BallotClient
import Foundation
import Glibc
import Testing

@testable import BallotServer

/// Who may change the node: the bearer token, a client certificate from the client CA, reads
/// open unless asked otherwise, and the admin listener. Every refusal on real sockets with curl.
@Suite(.serialized) struct HTTPAuthorizationTests {
    static let token = "s3cr3t-t0ken-for-the-tests-0123456789"

    /// A token file with `mode`, removed afterwards.
    @discardableResult
    static func withTokenFile<T>(mode: mode_t = 0o600, contents: String = token + "\n", _ body: (String) async throws -> T) async throws -> T {
        let path = NSTemporaryDirectory() + "ballot-token-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, mode)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await body(path)
    }

    @Test func changesNeedTheTokenAndReadsStayOpen() async throws {
        try await Self.withTokenFile { path in
            let access = HTTPAccessPolicy(token: try BearerToken.load(path: path))
            try await TestEndpoint.with(access: access) { endpoint in
                let url = "http://\(endpoint.base)/change"
                for version in ["--http1.1", "--http2-prior-knowledge"] {
                    let missing = await curl([version, "-i", "-X", "POST", url])
                    #expect(missing.output.contains(" 401"), "\(version): \(missing.output)")
                    #expect(missing.output.lowercased().contains("www-authenticate: bearer realm=\"ballot\""), "\(missing.output)")
                    #expect(missing.output.contains("{\"error\":"), "\(missing.output)")

                    let wrong = await curl([version, "-i", "-X", "POST", "-H", "Authorization: Bearer not-the-token-at-all-0000", url])
                    #expect(wrong.output.contains(" 403"), "\(version): \(wrong.output)")
                    #expect(!wrong.output.contains("not-the-token"), "an error body must not echo the credential")

                    let otherScheme = await curl([version, "-i", "-X", "POST", "-u", "user:\(Self.token)", url])
                    #expect(otherScheme.output.contains(" 403"), "\(version): \(otherScheme.output)")

                    let right = await curl([version, "-i", "-X", "POST", "-H", "Authorization: Bearer \(Self.token)", url])
                    #expect(right.output.contains(" 200"), "\(version): \(right.output)")

                    let read = await curl([version, "-i", "http://\(endpoint.base)/healthz"])
                    #expect(read.output.contains(" 200"), "reads stay open: \(read.output)")
                }
                #expect(endpoint.sample("ballot_http_requests_total{route=\"change\",code=\"401\"}") == 2)
                #expect(endpoint.sample("ballot_http_requests_total{route=\"change\",code=\"403\"}") == 4)
                #expect(!endpoint.registry.emitToString().contains(Self.token), "the token must never reach the metrics")

                // Ballot's own client sends the token.
                let target = try HTTPTarget(url: endpoint.base, bearerToken: Self.token)
                #expect(try await HTTPClient.request(.POST, target, path: "/change").status == 200)
            }
        }
    }

    @Test func authorizedReadsNeedTheTokenToo() async throws {
        try await Self.withTokenFile { path in
            let access = HTTPAccessPolicy(token: try BearerToken.load(path: path), authorizeReads: true)
            try await TestEndpoint.with(access: access) { endpoint in
                let read = await curl(["-i", "http://\(endpoint.base)/healthz"])
                #expect(read.output.contains(" 401"), "\(read.output)")
                let authorized = await curl(["-i", "-H", "Authorization: bearer \(Self.token)", "http://\(endpoint.base)/healthz"])
                #expect(authorized.output.contains(" 200"), "the scheme is case-insensitive: \(authorized.output)")
            }
        }
    }

    @Test func aClientCertificateFromTheClientCAMayChangeTheNodeAndAnyOtherIsRefused() async throws {
        let certificates = try await ThrowawayCertificates.make()
        defer { certificates.remove() }
        try await Self.withTokenFile { path in
            let tls = HTTPTLSFiles(certificate: certificates.serverCertificate, key: certificates.serverKey,
                                   clientCA: certificates.ca)
            let access = HTTPAccessPolicy(token: try BearerToken.load(path: path))
            try await TestEndpoint.with(tls: tls, access: access) { endpoint in
                let url = "https://127.0.0.1:\(endpoint.port)/change"
                for version in ["--http1.1", "--http2"] {
                    let withCertificate = await curl([version, "-i", "-X", "POST", "--cacert", certificates.ca,
                                                    "--cert", certificates.clientCertificate, "--key", certificates.clientKey, url])
                    #expect(withCertificate.output.contains(" 200"), "\(version): \(withCertificate.output) \(withCertificate.error)")

                    let without = await curl([version, "-i", "-X", "POST", "--cacert", certificates.ca, url])
                    #expect(without.output.contains(" 401"), "\(version): \(without.output)")

                    let withToken = await curl([version, "-i", "-X", "POST", "--cacert", certificates.ca,
                                              "-H", "Authorization: Bearer \(Self.token)", url])
                    #expect(withToken.output.contains(" 200"), "\(version): \(withToken.output)")

                    // A certificate from another CA fails the handshake: nothing is served.
                    let rogue = await curl([version, "-i", "-X", "POST", "--cacert", certificates.ca,
                                          "--cert", certificates.rogueClientCertificate, "--key", certificates.rogueClientKey, url])
                    #expect(rogue.status != 0, "\(version): \(rogue.output)")
                    #expect(!rogue.output.contains(" 200"))
                }
            }
        }
    }

    @Test func withAnAdminListenerChangesAreServedThereOnly() async throws {
        try await TestEndpoint.with(admin: true) { endpoint in
            let main = await curl(["-i", "-X", "POST", "http://\(endpoint.base)/change"])
            #expect(main.output.contains(" 404") && main.output.contains("admin listener"), "\(main.output)")
            let admin = await curl(["-i", "-X", "POST", "http://127.0.0.1:\(endpoint.adminPort!)/change"])
            #expect(admin.output.contains(" 200"), "\(admin.output)")
            let read = await curl(["-i", "http://127.0.0.1:\(endpoint.adminPort!)/healthz"])
            #expect(read.output.contains(" 200"), "reads are served on the admin listener too")
        }
    }

    @Test func aTokenFileEveryUserMayReadIsRefused() async throws {
        try await Self.withTokenFile(mode: 0o644) { path in
            #expect(throws: HTTPSetupError.self) { try BearerToken.load(path: path) }
            do {
                _ = try BearerToken.load(path: path)
            } catch {
                #expect("\(error)".contains("chmod 600"), "\(error)")
                #expect(!"\(error)".contains(Self.token))
            }
        }
        try await Self.withTokenFile(contents: "short\n") { path in
            #expect(throws: HTTPSetupError.self) { try BearerToken.load(path: path) }
        }
        try await Self.withTokenFile(contents: "has a space in it, which no header can carry\n") { path in
            #expect(throws: HTTPSetupError.self) { try BearerToken.load(path: path) }
        }
    }

    @Test func theTokenComparisonIsExactAndTheTokenIsNeverPrinted() throws {
        let token = try BearerToken(Self.token)
        #expect(token.matches(Array(Self.token.utf8)))
        #expect(!token.matches(Array((Self.token + "x").utf8)))
        #expect(!token.matches(Array(Self.token.dropLast().utf8)))
        #expect(!token.matches(Array(Self.token.uppercased().utf8)))
        #expect(!token.matches([UInt8]()))
        #expect("\(token)" == "<redacted>" && String(reflecting: token) == "<redacted>")
    }
}
