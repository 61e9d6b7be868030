import BallotCore
import BallotWire
import Foundation

/// The files one cluster's peer trust needs, in one directory, as `ballot certs` and `ballot
/// local` lay them out:
///
/// ```
/// ca.pem            the CA certificate: every member's --peer-tls-ca
/// ca-key.pem        the CA's key (0600): only for making more certificates; keep it off the nodes
/// node-<id>.pem     node <id>'s certificate, URI SAN ballot://<cluster>/<id>: its --peer-tls-cert
/// node-<id>-key.pem node <id>'s key (0600): its --peer-tls-key
/// cluster.secret    32 random bytes (0600), when asked for: every member's --cluster-secret-file
/// ```
public struct ClusterCredentials: Sendable {
    public let directory: String
    public let cluster: ClusterName

    public init(directory: String, cluster: ClusterName) {
        self.directory = directory
        self.cluster = cluster
    }

    public var caCertificatePath: String { "\(directory)/ca.pem" }
    public var caKeyPath: String { "\(directory)/ca-key.pem" }
    public var secretPath: String { "\(directory)/cluster.secret" }
    public func certificatePath(of node: NodeID) -> String { "\(directory)/node-\(node).pem" }
    public func keyPath(of node: NodeID) -> String { "\(directory)/node-\(node)-key.pem" }

    /// The flags that give node `node` these credentials (`secret`: also the cluster secret).
    public func nodeArguments(for node: NodeID, tls: Bool = true, secret: Bool = false) -> [String] {
        var arguments: [String] = []
        if tls {
            arguments += ["--peer-tls-cert", certificatePath(of: node), "--peer-tls-key", keyPath(of: node),
                          "--peer-tls-ca", caCertificatePath]
        }
        if secret { arguments += ["--cluster-secret-file", secretPath] }
        return arguments
    }

    /// Makes a new CA (or uses the one already in the directory, if both of its files are there)
    /// and certificates for `nodes`, and a cluster secret if `secret`; creates the directory.
    /// Never overwrites a file: an existing node certificate is an error.
    @discardableResult
    public func create(nodes: [NodeID], secret: Bool, validity: Duration = .seconds(365 * 86_400)) throws
        -> CertificateAuthority
    {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let authority: CertificateAuthority
        if FileManager.default.fileExists(atPath: caCertificatePath) && FileManager.default.fileExists(atPath: caKeyPath) {
            authority = try CertificateAuthority(
                certificatePEM: String(contentsOfFile: caCertificatePath, encoding: .utf8),
                keyPEM: String(contentsOfFile: caKeyPath, encoding: .utf8))
        } else {
            authority = try CertificateAuthority(commonName: "Ballot CA for cluster \(cluster)")
            try CredentialFiles.create(caKeyPath, text: authority.keyPEM, mode: CredentialFiles.privateMode)
            try CredentialFiles.create(caCertificatePath, text: authority.certificatePEM, mode: CredentialFiles.publicMode)
        }
        for node in nodes {
            let issued = try authority.issue(for: PeerIdentity(clusterName: cluster, node: node), validity: validity)
            try CredentialFiles.create(keyPath(of: node), text: issued.keyPEM, mode: CredentialFiles.privateMode)
            try CredentialFiles.create(certificatePath(of: node), text: issued.certificatePEM, mode: CredentialFiles.publicMode)
        }
        if secret && !FileManager.default.fileExists(atPath: secretPath) {
            try CredentialFiles.create(secretPath, contents: CredentialFiles.randomSecret(), mode: CredentialFiles.privateMode)
        }
        return authority
    }
}
