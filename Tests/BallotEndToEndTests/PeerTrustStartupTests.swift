import BallotCertificates
import BallotClient
import BallotCore
import BallotHarness
import BallotWire
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
        #expect(status == 78)
        #expect(stderr.contains("is not a loopback address"), "\(stderr)")
        #expect(stderr.contains("--insecure-peers"))
    }

    @Test func withInsecurePeersItStartsSaysSoAndReportsAuthDisabled() async throws {
        let directory = temporaryDirectory("insecure")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let httpPort = LoopbackPorts.consecutiveFree(1, from: Int.random(in: 20_000...50_000))
        let log = "\(directory)/err.log"
        let process = try ChildProcess(
            try ballotBinary(),
            arguments: try Self.serve(directory, listen: "0.0.0.0", ["--insecure-peers", "--http", "127.0.0.1:\(httpPort)"]),
            output: .null, error: .file(log))
        defer { process.terminate() }
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

    @Test func aWorldReadableOrTooShortSecretFileIsRefused() async throws {
        let directory = temporaryDirectory("secret-file")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let open = "\(directory)/open.secret"
        try CredentialFiles.create(open, contents: CredentialFiles.randomSecret(), mode: 0o644)
        var (status, stderr) = try await runBallot(try Self.serve(directory, ["--cluster-secret-file", open]))
        #expect(status == 78)
        #expect(stderr.contains("can be read or written by every user on this host (mode 644)") && stderr.contains("chmod 600 \(open)"), "\(stderr)")
        let short = "\(directory)/short.secret"
        try CredentialFiles.create(short, contents: CredentialFiles.randomSecret(byteCount: 16), mode: 0o600)
        (status, stderr) = try await runBallot(try Self.serve(directory, ["--cluster-secret-file", short]))
        #expect(status == 78)
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
        #expect(status == 78 && stderr.contains("names ballot://start/2, but this node is ballot://start/1"), "\(stderr)")
        // A key that does not belong to the certificate.
        (status, stderr) = try await runBallot(try Self.serve(directory, tls(
            cert: files.certificatePath(of: 1), key: files.keyPath(of: 2), ca: files.caCertificatePath)))
        #expect(status == 78 && stderr.contains("does not belong to the certificate"), "\(stderr)")
        // A CA that did not sign it.
        let other = "\(directory)/other-ca.pem"
        try CredentialFiles.create(other, text: try CertificateAuthority(commonName: "other").certificatePEM, mode: 0o644)
        (status, stderr) = try await runBallot(try Self.serve(directory, tls(
            cert: files.certificatePath(of: 1), key: files.keyPath(of: 1), ca: other)))
        #expect(status == 78 && stderr.contains("is not accepted under the CA"), "\(stderr)")
        // Only part of the TLS settings.
        (status, stderr) = try await runBallot(try Self.serve(directory, ["--peer-tls-cert", files.certificatePath(of: 1)]))
        #expect(status == 78 && stderr.contains("also give --peer-tls-key (peer_tls_key) and --peer-tls-ca (peer_tls_ca)"), "\(stderr)")
    }
}

/// The secret and the private keys stay in their files: logs (debug level), `/status`, `/metrics`
/// and `--print-config` name the files, never what they hold.
@Suite(.serialized) struct PeerSecretsStayInTheirFilesTests {
    @Test func noLogStatusMetricsOrPrintoutHoldsTheSecretOrAKey() async throws {
        try await withCluster(cluster: "e2e", security: .tlsAndSecret, logLevel: "debug") { cluster in
            _ = try #require(await cluster.waitForLeader(timeout: .seconds(15)))
            let credentials = try #require(cluster.credentials)
            let secretBytes = try #require(FileManager.default.contents(atPath: credentials.secretPath))
            // A refused proof and a refused certificate, so that the refusal lines are in the logs too.
            let wrongSecret = try ClusterSecrets(current: ClusterSecret(bytes: CredentialFiles.randomSecret()))
            let authority = try PeerTrustProbe.authority(cluster)
            let member2 = try PeerTrustProbe.identity(
                authority.issue(for: PeerIdentity(clusterName: try ClusterName("e2e"), node: 2)))
            let before = await PeerTrustProbe.refusals(cluster, 1)
            _ = await Intruder.recordSession(as: 2, to: 1, target: PeerTrustProbe.target(cluster, 1),
                                             cluster: try ClusterName("e2e"), membership: Membership([1, 2, 3]),
                                             tls: member2, secrets: wrongSecret)
            #expect(await PeerTrustProbe.awaitRefusals(cluster, 1, atLeast: before + 1) == before + 1)

            // What must never appear: the secret in every spelling a careless line would use, and
            // the body of every node's private key.
            var forbidden = [secretBytes.map { String(format: "%02x", $0) }.joined(), secretBytes.base64EncodedString()]
            if let text = String(data: secretBytes, encoding: .utf8), text.count >= 16 { forbidden.append(text) }
            for node in cluster.nodes.map(\.id) {
                let pem = try String(contentsOfFile: credentials.keyPath(of: node), encoding: .utf8)
                forbidden += pem.split(separator: "\n").filter { !$0.hasPrefix("-----") && $0.count >= 32 }.map(String.init)
            }
            #expect(forbidden.count >= 2 + cluster.nodes.count)

            var surfaces: [(String, String)] = []
            for node in cluster.nodes.map(\.id) {
                surfaces.append(("log of node \(node)", cluster.node(node).log))
                let port = cluster.node(node).httpPort
                for path in ["/status", "/metrics"] {
                    let text = try await HTTPClient.request(.GET, host: "127.0.0.1", port: port, path: path).text
                    surfaces.append(("\(path) of node \(node)", text))
                }
            }
            #expect(surfaces.contains { $0.1.contains("refused peer connection") }, "the refusal was logged")
            let printout = try await runBallotOutput([
                "serve", "--print-config", "--id", "1", "--listen", "10.0.0.1:7001", "--data-dir", "/tmp/unused",
                "--cluster", "e2e", "--peer-tls-cert", credentials.certificatePath(of: 1),
                "--peer-tls-key", credentials.keyPath(of: 1), "--peer-tls-ca", credentials.caCertificatePath,
                "--cluster-secret-file", credentials.secretPath,
            ])
            #expect(printout.status == 0, "\(printout.output)")
            surfaces.append(("--print-config", printout.output))
            for (name, text) in surfaces {
                for secret in forbidden {
                    #expect(!text.contains(secret), "\(name) holds secret material")
                }
            }
            // The printout names the files, so that an operator can see which are in force.
            for path in [credentials.certificatePath(of: 1), credentials.keyPath(of: 1), credentials.caCertificatePath,
                         credentials.secretPath] {
                #expect(printout.output.contains(path), "--print-config shows \(path)")
            }
            #expect(printout.output.contains("peer_handshake_timeout: 5s"), "\(printout.output)")
        }
    }
}
