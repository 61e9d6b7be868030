import BallotCertificates
import BallotCore
import Foundation

/// How the nodes of a harness cluster authenticate each other: the secure path (`ballot local`'s
/// default is mutual TLS), or none, for comparing what authentication costs.
public enum PeerSecurity: String, Sendable, CaseIterable, CustomStringConvertible {
    /// No authentication (loopback only, as `ballotd` allows there).
    case insecure
    /// Mutual TLS 1.3 with certificates from a CA made for the cluster.
    case tls
    /// The cluster secret (auth method 1) without TLS.
    case secret
    /// Both: each is checked.
    case tlsAndSecret = "tls+secret"

    public var usesTLS: Bool { self == .tls || self == .tlsAndSecret }
    public var usesSecret: Bool { self == .secret || self == .tlsAndSecret }
    public var description: String { rawValue }

    /// The credentials of a cluster whose files live in `directory`, made on first use.
    func credentials(in directory: String, cluster: String) -> ClusterCredentials? {
        guard self != .insecure, let name = try? ClusterName(cluster) else { return nil }
        return ClusterCredentials(directory: directory, cluster: name)
    }

    /// Makes the CA, the node certificates and the secret if `credentials` holds none yet.
    static func prepare(_ credentials: ClusterCredentials?, nodes: [NodeID], security: PeerSecurity) throws {
        guard let credentials, !FileManager.default.fileExists(atPath: credentials.caCertificatePath) else { return }
        try credentials.create(nodes: nodes, secret: security.usesSecret)
    }
}
