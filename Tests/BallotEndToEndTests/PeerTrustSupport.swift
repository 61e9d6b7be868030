import BallotCertificates
import BallotClient
import BallotCore
import BallotHarness
import BallotWire
import Foundation
import Testing

/// Reading a node's refusal counters and log, and making intruder credentials, for the peer-trust tests.
enum PeerTrustProbe {
    /// `name{labels} value` from a node's `/metrics`, or nil.
    static func metric(_ cluster: LocalCluster, _ node: NodeID, _ series: String) async -> Double? {
        guard let text = try? await HTTPClient.request(.GET, host: "127.0.0.1", port: cluster.node(node).httpPort,
                                                       path: "/metrics").text,
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix(series + " ") })
        else { return nil }
        return Double(line.split(separator: " ").last ?? "")
    }

    static func refusals(_ cluster: LocalCluster, _ node: NodeID, reason: String = "auth") async -> Double {
        await metric(cluster, node, "ballot_peer_frames_rejected_total{reason=\"\(reason)\"}") ?? -1
    }

    /// Waits (bounded) until `node`'s refusals under `reason` reach `count`; returns the last value.
    @discardableResult
    static func awaitRefusals(_ cluster: LocalCluster, _ node: NodeID, reason: String = "auth", atLeast count: Double,
                              timeout: Duration = .seconds(5)) async -> Double {
        let deadline = ContinuousClock.now + timeout
        var value = await refusals(cluster, node, reason: reason)
        while value < count && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
            value = await refusals(cluster, node, reason: reason)
        }
        return value
    }

    /// Waits (bounded) until the node's log holds a line containing every one of `parts`.
    static func awaitLogLine(_ cluster: LocalCluster, _ node: NodeID, containing parts: [String],
                             timeout: Duration = .seconds(5)) async -> String? {
        let deadline = ContinuousClock.now + timeout
        repeat {
            if let line = cluster.node(node).log.split(separator: "\n").first(where: { line in
                parts.allSatisfy { line.contains($0) }
            }) {
                return String(line)
            }
            try? await Task.sleep(for: .milliseconds(50))
        } while ContinuousClock.now < deadline
        return nil
    }

    static func authority(_ cluster: LocalCluster) throws -> CertificateAuthority {
        let credentials = try #require(cluster.credentials)
        return try CertificateAuthority(
            certificatePEM: String(contentsOfFile: credentials.caCertificatePath, encoding: .utf8),
            keyPEM: String(contentsOfFile: credentials.caKeyPath, encoding: .utf8))
    }

    static func identity(_ issued: IssuedCertificate) throws -> Intruder.TLSIdentity {
        Intruder.TLSIdentity(certificatePEM: try issued.certificatePEM, keyPEM: issued.keyPEM)
    }

    static func target(_ cluster: LocalCluster, _ node: NodeID) -> Intruder.Target {
        Intruder.Target(host: "127.0.0.1", port: cluster.node(node).peerPort)
    }

    /// A member's handshake followed by forged election messages in a term no one reached.
    static func forged(claiming node: NodeID, cluster: String, auth: HandshakeAuth = .none) throws -> [PeerFrame] {
        let name = try ClusterName(cluster)
        return [
            .handshake(Handshake(nodeID: node, clusterName: name, algorithm: .raft, auth: auth)),
            .message(.heartbeat(Heartbeat(term: Term(1_000_000), sequence: 1,
                                          leaderLog: LogPosition(index: 9, term: Term(1_000_000))))),
            .message(.voteRequest(VoteRequest(term: Term(1_000_001), lastLog: LogPosition(index: 9, term: Term(1_000_000))))),
        ]
    }

    /// Runs `openssl s_client` against a node's peer port with `arguments` (bounded); returns its output.
    static func openSSLClient(port: Int, _ arguments: [String]) async throws -> String {
        let process = try ChildProcess(
            "/usr/bin/openssl", arguments: ["s_client", "-connect", "127.0.0.1:\(port)", "-quiet"] + arguments,
            input: .pipe, output: .pipe, error: .standardOutput)
        if await process.waitForExit(timeout: .seconds(10)) == nil { process.signal(SIGTERM) }
        return process.standardOutput?.readText() ?? ""
    }
}
