import BallotWire
import Foundation
import Logging
import Synchronization

/// A node's current peer credentials, re-read on request (SIGHUP) without a restart.
///
/// New connections take ``current`` when they start; established ones keep what they started
/// with, so rotating a certificate, a CA or the secret never drops a working connection. A reload
/// that fails — a missing file, a key that does not match, an expired certificate, a secret
/// others can read — keeps the old material and logs why, so a bad rotation cannot take a node
/// off the cluster.
public final class PeerTrustStore: Sendable {
    public let configuration: PeerTrustConfiguration
    public let identity: PeerIdentity
    let recorder: MetricsRecorder
    let logger: Logger
    private let material: Mutex<PeerTrustMaterial>

    /// Loads the configured files; throws (and the node does not start) if any is unusable.
    public init(configuration: PeerTrustConfiguration, identity: PeerIdentity, recorder: MetricsRecorder,
                logger: Logger) async throws(PeerTrustError) {
        self.configuration = configuration
        self.identity = identity
        self.recorder = recorder
        self.logger = logger
        let loaded = try await PeerTrustMaterial.load(configuration, identity: identity)
        material = Mutex(loaded)
        publish(loaded)
        if !loaded.authenticatesPeers {
            logger.warning(
                "peers are not authenticated: anyone who can reach the peer port can take part in elections (give --peer-tls-cert/--peer-tls-key/--peer-tls-ca and/or --cluster-secret-file; docs/security.md)",
                metadata: ["event": "peer_auth_disabled", "ballot_peer_auth_enabled": "0"])
        }
    }

    /// The credentials new connections use now.
    public var current: PeerTrustMaterial { material.withLock { $0 } }

    /// Re-reads every file. On success new connections use the new material; on failure the old
    /// material stays and the reason is logged. Returns whether the new material is in force.
    @discardableResult
    public func reload() async -> Bool {
        do {
            let loaded = try await PeerTrustMaterial.load(configuration, identity: identity)
            material.withLock { $0 = loaded }
            publish(loaded)
            logger.notice("peer credentials reloaded; new connections use them", metadata: describe(loaded))
            return true
        } catch {
            logger.error("peer credentials NOT reloaded, keeping the previous ones: \(error)",
                         metadata: ["event": "peer_credentials_reload_failed"])
            return false
        }
    }

    private func publish(_ loaded: PeerTrustMaterial) {
        recorder.peerAuthEnabled(loaded.authenticatesPeers)
        recorder.peerCertificateExpiry(loaded.tls.map { $0.expiry.timeIntervalSince1970 })
    }

    private func describe(_ loaded: PeerTrustMaterial) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "event": "peer_credentials_reloaded", "tls": "\(loaded.tls != nil)", "cluster_secret": "\(loaded.secrets != nil)",
        ]
        if let tls = loaded.tls {
            metadata["certificate_expires"] = "\(tls.certificate.notValidAfter.formatted(.iso8601))"
            metadata["cas"] = "\(tls.caCertificates.count)"
        }
        if let secrets = loaded.secrets { metadata["accepted_secrets"] = "\(secrets.accepted.count)" }
        return metadata
    }
}
