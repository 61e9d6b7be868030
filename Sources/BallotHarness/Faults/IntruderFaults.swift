import BallotCertificates
import BallotCore
import BallotRuntime
import BallotSimulation
import BallotWire
import Foundation

/// The intruder faults of `ballot faults`: connections to a member's peer port that must be
/// refused, interleaved with the other faults. Each claims to be another member and, if it gets
/// that far, sends election messages in a forged, far higher term.
enum IntruderFaults {
    /// Whether `kind` can be injected into a cluster whose peers authenticate by `security`:
    /// intruders need authentication to be refused, and the certificate intruders need TLS.
    static func applies(_ kind: FaultKind, to security: PeerSecurity) -> Bool {
        switch kind {
        case .impostor, .replay: security != .insecure
        case .foreignCertificate, .wrongIdentity: security.usesTLS
        default: true
        }
    }

    /// Connections per intruder fault.
    static let attempts = 2

    /// What the forged messages say: a term far above any the cluster reached, and a vote request.
    static func forgedFrames(claiming member: NodeID, cluster: ClusterName, term: UInt64) -> [PeerFrame] {
        [
            .handshake(Handshake(nodeID: member, clusterName: cluster, algorithm: .raft)),
            .message(.heartbeat(Heartbeat(term: Term(term), sequence: 1, leaderLog: LogPosition(index: 1, term: Term(term)),
                                          transferTarget: nil))),
            .message(.voteRequest(VoteRequest(term: Term(term + 1), lastLog: LogPosition(index: 1_000_000, term: Term(term))))),
        ]
    }
}

extension FaultInjector {
    /// Injects an intruder fault against `target`: scrapes its `auth` refusals, makes
    /// ``IntruderFaults/attempts`` intruder connections (recorded on the timeline with their source
    /// addresses), holds while probing, scrapes again, and waits for a stable leader as usual.
    func intrude(_ kind: FaultKind, number: Int, target: UInt64, leader: UInt64?, random: inout SplitMix64)
        async throws -> Outcome?
    {
        guard let credentials = cluster.credentials, let targetID = NodeID(target) else { return nil }
        let others = cluster.ids.filter { $0 != target }
        let claimed = NodeID(others[Int(random.next() % UInt64(others.count))])!
        let term = await cluster.probeLeader(target)?.term ?? 0
        let forged = term + 1_000_000
        let intruderTarget = cluster.intruderTarget(target, from: claimed.rawValue)
        let security = cluster.settings.peerSecurity
        let authority = try CertificateAuthority(
            certificatePEM: String(contentsOfFile: credentials.caCertificatePath, encoding: .utf8),
            keyPEM: String(contentsOfFile: credentials.caKeyPath, encoding: .utf8))
        let frames = IntruderFaults.forgedFrames(claiming: claimed, cluster: credentials.cluster, term: forged)
        let detail: String
        switch kind {
        case .impostor: detail = "no credentials, claims node \(claimed) to node \(target)"
        case .foreignCertificate: detail = "certificate from another CA for node \(claimed), to node \(target)"
        case .wrongIdentity: detail = "the cluster CA's certificate of another node, claims node \(claimed) to node \(target)"
        default: detail = "replays a recorded connection of node \(claimed) to node \(target)"
        }
        begin(number, kind, detail)
        await scrapeAuthRefusals(number: number, node: target, before: true)
        for _ in 0..<IntruderFaults.attempts {
            let attempt: Intruder.Attempt
            switch kind {
            case .impostor:
                attempt = await Intruder.send(frames, to: intruderTarget)
            case .foreignCertificate:
                let foreign = try CertificateAuthority(commonName: "an intruder's CA")
                let issued = try foreign.issue(for: PeerIdentity(clusterName: credentials.cluster, node: claimed))
                attempt = await Intruder.send(frames, to: intruderTarget, tls: .init(
                    certificatePEM: try issued.certificatePEM, keyPEM: issued.keyPEM))
            case .wrongIdentity:
                let holder = cluster.ids.first { $0 != target && $0 != claimed.rawValue }.flatMap(NodeID.init) ?? targetID
                let issued = try authority.issue(for: PeerIdentity(clusterName: credentials.cluster, node: holder))
                attempt = await Intruder.send(frames, to: intruderTarget, tls: .init(
                    certificatePEM: try issued.certificatePEM, keyPEM: issued.keyPEM))
            default:
                let issued = try authority.issue(for: PeerIdentity(clusterName: credentials.cluster, node: claimed))
                let secrets = try security.usesSecret ? ClusterSecrets(current: ClusterSecret(bytes: Array(
                    FileManager.default.contents(atPath: credentials.secretPath) ?? Data()))) : nil
                let recording = await Intruder.recordSession(
                    as: claimed, to: targetID, target: intruderTarget, cluster: credentials.cluster,
                    membership: Membership(cluster.ids.compactMap(NodeID.init)),
                    tls: security.usesTLS ? .init(certificatePEM: try issued.certificatePEM, keyPEM: issued.keyPEM) : nil,
                    secrets: secrets)
                guard recording.connected, !recording.bytesSent.isEmpty else {
                    throw Subprocess.Failure(description: "fault #\(number): could not record a session to replay: \(recording)")
                }
                attempt = await Intruder.replay(recording.bytesSent, to: intruderTarget)
            }
            if attempt.connected {
                cluster.timeline.append(.intrusion(number: number, node: target, kind: kind, remote: attempt.localAddress,
                                                   forgedTerm: forged, at: SystemMonotonicClock.now.nanoseconds))
            }
            await hold(random.milliseconds(in: (timeout * 0.5)...(timeout * 1.5)))
        }
        // The refusal lines and counters are written before the node closes the connection; a
        // short pause lets the lines' reader catch up.
        try? await Task.sleep(for: .milliseconds(200))
        await scrapeAuthRefusals(number: number, node: target, before: false)
        cluster.timeline.append(.faultHealed(number: number, at: SystemMonotonicClock.now.nanoseconds))
        return Outcome(recoveryMilliseconds: await recover(number, kind, detail), forcesElection: false)
    }

    /// Records `ballot_peer_frames_rejected_total{reason="auth"}` of `node` on the timeline.
    private func scrapeAuthRefusals(number: Int, node: UInt64, before: Bool) async {
        for _ in 0..<20 {
            if let (status, body) = await cluster.get(node, "/metrics"), status == 200,
               let line = body.split(separator: "\n").first(where: {
                   $0.hasPrefix("ballot_peer_frames_rejected_total{reason=\"auth\"}")
               }),
               let value = Double(line.split(separator: " ").last ?? "")
            {
                cluster.timeline.append(.authRefusals(number: number, node: node, before: before, count: value,
                                                      at: SystemMonotonicClock.now.nanoseconds))
                return
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}

extension FaultCluster {
    /// Where an intruder claiming to be `claimed` dials `node`: on loopback its peer port; with
    /// namespaces, from `claimed`'s own namespace (the intruder sits on that member's host).
    func intruderTarget(_ node: UInt64, from claimed: UInt64) -> Intruder.Target {
        switch placement {
        case .loopback:
            Intruder.Target(host: "127.0.0.1", port: self.node(node).peerPort)
        case .namespaces(let lab):
            Intruder.Target(host: lab.address(of: node), port: Self.namespacePeerPort, namespace: lab.namespace(of: claimed))
        }
    }
}
