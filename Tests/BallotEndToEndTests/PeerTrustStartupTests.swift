import BallotCertificates
import BallotClient
import BallotCore
import BallotHarness
import Foundation
import Glibc
import Testing

/// What a node refuses at start-up, and the warning of a node without peer authentication.
@Suite(.serialized) struct PeerTrustStartupTests {
    static func serve(_ directory: String, listen: String = "127.0.0.1", _ extra: [String]) throws -> [String] {
        let port = LoopbackPorts.consecutiveFree(1, from: Int.random(in: 20_000...50_000))
        return ["serve", "--id", "1", "--listen", "\(listen):\(port)", "--data-dir", "\(directory)/data",
                "--cluster", "start"] + extra
    }

    @Test func offLoopbackWithoutAuthenticationTheNodeRefusesToStart() async throws {
        let directory = temporaryDirectory("secure-default")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (status, stderr) = try await runBallot(try Self.serve(directory, listen: "0.0.0.0", []))
        #expect(status == 2)
        #expect(stderr.contains("is not a loopback address"), "\(stderr)")
        #expect(stderr.contains("--insecure-peers"))
    }

    @Test func withInsecurePeersItStartsSaysSoAndReportsAuthDisabled() async throws {
        let directory = temporaryDirectory("insecure")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let httpPort = LoopbackPorts.consecutiveFree(1, from: Int.random(in: 20_000...50_000))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try ballotBinary())
        process.arguments = try Self.serve(directory, listen: "0.0.0.0", ["--insecure-peers", "--http", "127.0.0.1:\(httpPort)"])
        let log = "\(directory)/err.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        var value: String?
        for _ in 0..<200 where value == nil {
            try await Task.sleep(for: .milliseconds(50))
            let text = try? await HTTPClient.request(.GET, host: "127.0.0.1", port: httpPort, path: "/metrics").text
            value = text?.split(separator: "\n").first { $0.hasPrefix("ballot_peer_auth_enabled ") }.map(String.init)
        }
        #expect(value.flatMap { Double($0.split(separator: " ").last ?? "") } == 0, "\(value ?? "no series")")
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.contains("warning") && text.contains("peers are not authenticated"), "\(text)")
    }

    @Test func aSecretFileOthersCanReadOrThatIsTooShortIsRefused() async throws {
        let directory = temporaryDirectory("secret-file")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let open = "\(directory)/open.secret"
        try CredentialFiles.create(open, contents: CredentialFiles.randomSecret(), mode: 0o640)
        var (status, stderr) = try await runBallot(try Self.serve(directory, ["--cluster-secret-file", open]))
        #expect(status == 2)
        #expect(stderr.contains("can be read by group or others (mode 640)") && stderr.contains("chmod 600 \(open)"), "\(stderr)")
        let short = "\(directory)/short.secret"
        try CredentialFiles.create(short, contents: CredentialFiles.randomSecret(byteCount: 16), mode: 0o600)
        (status, stderr) = try await runBallot(try Self.serve(directory, ["--cluster-secret-file", short]))
        #expect(status == 2)
        #expect(stderr.contains("has 16 bytes; it needs at least 32"), "\(stderr)")
    }

    @Test func unusableCertificatesAreRefusedWithTheirReason() async throws {
        let directory = temporaryDirectory("bad-certs")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = ClusterCredentials(directory: "\(directory)/c", cluster: try ClusterName("start"))
        try files.create(nodes: [1, 2], secret: false)
        func tls(cert: String, key: String, ca: String) -> [String] {
            ["--peer-tls-cert", cert, "--peer-tls-key", key, "--peer-tls-ca", ca]
        }
        // Another node's certificate.
        var (status, stderr) = try await runBallot(try Self.serve(directory, tls(
            cert: files.certificatePath(of: 2), key: files.keyPath(of: 2), ca: files.caCertificatePath)))
        #expect(status == 2 && stderr.contains("names ballot://start/2, but this node is ballot://start/1"), "\(stderr)")
        // A key that does not belong to the certificate.
        (status, stderr) = try await runBallot(try Self.serve(directory, tls(
            cert: files.certificatePath(of: 1), key: files.keyPath(of: 2), ca: files.caCertificatePath)))
        #expect(status == 2 && stderr.contains("does not belong to the certificate"), "\(stderr)")
        // A CA that did not sign it.
        let other = "\(directory)/other-ca.pem"
        try CredentialFiles.create(other, text: try CertificateAuthority(commonName: "other").certificatePEM, mode: 0o644)
        (status, stderr) = try await runBallot(try Self.serve(directory, tls(
            cert: files.certificatePath(of: 1), key: files.keyPath(of: 1), ca: other)))
        #expect(status == 2 && stderr.contains("is not accepted under the CA"), "\(stderr)")
        // Only part of the TLS settings.
        (status, stderr) = try await runBallot(try Self.serve(directory, ["--peer-tls-cert", files.certificatePath(of: 1)]))
        #expect(status == 2 && stderr.contains("also give --peer-tls-key (peer_tls_key) and --peer-tls-ca (peer_tls_ca)"), "\(stderr)")
    }
}
