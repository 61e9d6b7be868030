import BallotCore
import BallotWire
import Foundation
import NIOSSL
import X509
#if canImport(Glibc)
import Glibc
#endif

/// What a node's peer trust holds at one moment, read from its files: the TLS contexts for
/// accepting and dialling, the CA(s) peers' certificates must chain to, and the cluster secrets.
///
/// A value: connections take the material current when they start, so a reload (SIGHUP) changes
/// only new connections and established ones carry on (``PeerTrustStore``).
public struct PeerTrustMaterial: Sendable {
    public let tls: PeerTLSMaterial?
    public let secrets: ClusterSecrets?

    /// The handshake policy of a new connection: `base` with the cluster secrets and, under
    /// mutual TLS, the requirement that the peer's certificate names it.
    func policy(_ base: HandshakePolicy) -> HandshakePolicy {
        var policy = base
        if let secrets {
            policy = HandshakePolicy(
                localNode: base.localNode, clusterName: base.clusterName, membership: base.membership,
                algorithm: base.algorithm, clusterSecrets: secrets)
        }
        return tls == nil ? policy : policy.requiringCertificates()
    }

    /// Whether peers must prove who they are.
    public var authenticatesPeers: Bool { tls != nil || secrets != nil }

    /// Reads and checks every configured file. This node's certificate must name `identity`,
    /// match its key, and chain to the configured CA now; a secret file must be private and hold
    /// 32–1024 bytes.
    public static func load(_ configuration: PeerTrustConfiguration, identity: PeerIdentity, now: Date = Date())
        async throws(PeerTrustError) -> PeerTrustMaterial
    {
        var tls: PeerTLSMaterial?
        if let files = configuration.tls {
            tls = try await PeerTLSMaterial.load(files, identity: identity, now: now)
        }
        var secrets: ClusterSecrets?
        if let path = configuration.clusterSecretFile {
            let current = try readSecret(path)
            var others: [ClusterSecret] = []
            for other in configuration.clusterSecretAlsoAccept { others.append(try readSecret(other)) }
            secrets = ClusterSecrets(current: current, alsoAccepted: others)
        }
        return PeerTrustMaterial(tls: tls, secrets: secrets)
    }

    /// A secret file: a regular file that not every user may read, of 32–1024 bytes.
    static func readSecret(_ path: String) throws(PeerTrustError) -> ClusterSecret {
        let bytes: [UInt8]
        do throws(PrivateFile.Problem) {
            bytes = try PrivateFile.read(path, limit: ClusterSecret.maximumByteCount)
        } catch {
            switch error {
            case .unreadable(let reason): throw .unreadable(path: path, what: "cluster secret file", reason: reason)
            case .notARegularFile: throw .secretNotAFile(path: path)
            case .worldAccessible(let mode): throw .secretReadableByOthers(path: path, mode: mode)
            case .tooLarge:
                throw .invalidSecret(path: path, detail: "it holds more than \(ClusterSecret.maximumByteCount) bytes")
            }
        }
        do {
            return try ClusterSecret(bytes: bytes)
        } catch {
            throw .invalidSecret(path: path, detail: error.description)
        }
    }
}

/// Mutual TLS for the peer protocol: this node's certificate and key (in a server and a client
/// context, TLS 1.3 only) and the CA(s) that every peer's certificate must chain to.
public struct PeerTLSMaterial: Sendable {
    let serverContext: NIOSSLContext
    let clientContext: NIOSSLContext
    /// The CAs peers' certificates are verified against (``PeerCertificateVerifier``).
    let trustRoots: CertificateStore
    public let caCertificates: [Certificate]
    /// This node's own certificate.
    public let certificate: Certificate
    public let files: PeerTrustConfiguration.TLSFiles

    /// The earliest end of validity among this node's certificate and its CAs: when it stops being
    /// able to authenticate (`ballot_peer_tls_certificate_expiry_timestamp_seconds`).
    public var expiry: Date {
        ([certificate.notValidAfter] + caCertificates.map(\.notValidAfter)).min()!
    }

    static func load(_ files: PeerTrustConfiguration.TLSFiles, identity: PeerIdentity, now: Date)
        async throws(PeerTrustError) -> PeerTLSMaterial
    {
        let chain = try readCertificates(files.certificate, what: "peer TLS certificate")
        let cas = try readCertificates(files.ca, what: "peer TLS CA certificate")
        let key: NIOSSLPrivateKey
        do throws(PEMFile.Problem) {
            key = try PEMFile.privateKey(files.key)
        } catch {
            throw PeerTrustError(error, path: files.key, what: "peer TLS private key")
        }
        let leaf = try convert(chain[0], path: files.certificate)
        let caCertificates = try cas.map { certificate throws(PeerTrustError) in try convert(certificate, path: files.ca) }
        // The node's own certificate must say who it is, and peers must accept it.
        let uris = (try? leaf.extensions.subjectAlternativeNames)??.compactMap { name -> String? in
            if case .uniformResourceIdentifier(let uri) = name { return uri }
            return nil
        } ?? []
        let found: PeerIdentity
        do {
            found = try PeerIdentity.fromCertificate(uris: uris)
        } catch {
            throw .wrongIdentity(path: files.certificate, found: "no node (\(error))", expected: identity.uri)
        }
        guard found == identity else {
            throw .wrongIdentity(path: files.certificate, found: found.uri, expected: identity.uri)
        }
        let intermediates = try chain.dropFirst().map { certificate throws(PeerTrustError) in
            try convert(certificate, path: files.certificate)
        }
        if case .refused(let reason) = await PeerCertificateVerifier.verify(
            leaf: leaf, intermediates: intermediates, trustRoots: CertificateStore(caCertificates), now: now)
        {
            throw .notTrustedByCA(path: files.certificate, ca: files.ca, detail: reason)
        }
        let certificateChain = chain.map { NIOSSLCertificateSource.certificate($0) }
        do {
            var server = TLSConfiguration.makeServerConfiguration(certificateChain: certificateChain, privateKey: .privateKey(key))
            var client = TLSConfiguration.makeClientConfiguration()
            client.certificateChain = certificateChain
            client.privateKey = .privateKey(key)
            server = restrict(server, trusting: cas)
            client = restrict(client, trusting: cas)
            return PeerTLSMaterial(
                serverContext: try NIOSSLContext(configuration: server),
                clientContext: try NIOSSLContext(configuration: client),
                trustRoots: CertificateStore(caCertificates), caCertificates: caCertificates, certificate: leaf,
                files: files)
        } catch let error as NIOSSLError {
            throw .keyDoesNotMatch(certificate: files.certificate, key: files.key, detail: "\(error)")
        } catch {
            throw .tlsContext(detail: "\(error)")
        }
    }

    /// TLS 1.3 only, and a certificate required from the peer. Verification itself is
    /// ``PeerCertificateVerifier``'s (a custom callback), which also reads the peer's identity and
    /// says precisely why it refused; the CAs are given to BoringSSL as well so that its own
    /// defaults never trust anything else.
    private static func restrict(_ configuration: TLSConfiguration, trusting cas: [NIOSSLCertificate]) -> TLSConfiguration {
        var configuration = configuration
        configuration.minimumTLSVersion = .tlsv13
        configuration.maximumTLSVersion = .tlsv13
        configuration.certificateVerification = .noHostnameVerification
        configuration.trustRoots = .certificates(cas)
        return configuration
    }

    private static func readCertificates(_ path: String, what: String) throws(PeerTrustError) -> [NIOSSLCertificate] {
        do throws(PEMFile.Problem) {
            return try PEMFile.certificates(path)
        } catch {
            throw PeerTrustError(error, path: path, what: what)
        }
    }

    private static func convert(_ certificate: NIOSSLCertificate, path: String) throws(PeerTrustError) -> Certificate {
        do {
            return try Certificate(derEncoded: certificate.toDERBytes())
        } catch {
            throw .invalidPEM(path: path, what: "certificate", detail: "\(error)")
        }
    }
}
