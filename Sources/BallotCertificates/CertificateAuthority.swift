import BallotCore
import BallotWire
import Crypto
import Foundation
import SwiftASN1
import X509

/// A certificate authority for one cluster's peer TLS: a self-signed CA certificate and its
/// P-256 key, which signs node certificates carrying the identity `ballot://<cluster>/<node-id>`.
///
/// Members trust exactly this CA (`--peer-tls-ca`), so whoever holds its key can make members:
/// keep `ca-key.pem` off the nodes (docs/security.md).
public struct CertificateAuthority: Sendable {
    public let certificate: Certificate
    let key: Certificate.PrivateKey
    /// The CA's private key as PEM (PKCS #8): keep it off the nodes.
    public let keyPEM: String

    /// A new CA named `commonName`, valid from an hour ago (clock skew between hosts) for `validity`.
    public init(commonName: String, validity: Duration = .seconds(10 * 365 * 86_400), now: Date = Date()) throws {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Ballot")
            CommonName(commonName)
        }
        let publicKey = Certificate.PublicKey(key.publicKey)
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            SubjectKeyIdentifier(hash: publicKey)
        }
        certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(validity.timeInterval),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
            issuerPrivateKey: Certificate.PrivateKey(key))
        self.key = Certificate.PrivateKey(key)
        keyPEM = key.pemRepresentation + "\n"
    }

    /// An existing CA from its PEM files' contents (e.g. one made by `ballot certs` or `openssl`);
    /// its key must be a P-256 key.
    public init(certificatePEM: String, keyPEM: String) throws(CertificateMakingError) {
        do {
            certificate = try Certificate(pemEncoded: certificatePEM)
        } catch {
            throw .unreadable(what: "CA certificate", detail: "\(error)")
        }
        let signingKey: P256.Signing.PrivateKey
        do {
            signingKey = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
        } catch {
            throw .unreadable(what: "CA key", detail: "\(error); `ballot certs` signs with P-256 (ECDSA) keys only")
        }
        guard Certificate.PublicKey(signingKey.publicKey) == certificate.publicKey else {
            throw .unreadable(what: "CA key", detail: "it does not belong to the CA certificate")
        }
        key = Certificate.PrivateKey(signingKey)
        self.keyPEM = keyPEM
    }

    /// A node certificate for `identity`: the URI subject alternative name `identity.uri`, usable
    /// for both ends of a TLS connection (members dial and accept), signed by this CA.
    ///
    /// `notValidBefore` and `validity` are parameters so that tests can make expired and
    /// not-yet-valid certificates; by default it is valid from an hour ago for a year.
    public func issue(
        for identity: PeerIdentity, validity: Duration = .seconds(365 * 86_400), notValidBefore: Date? = nil,
        now: Date = Date()
    ) throws -> IssuedCertificate {
        try issue(commonName: "ballot node \(identity.node) of \(identity.clusterName)", uris: [identity.uri],
                  validity: validity, notValidBefore: notValidBefore, now: now)
    }

    /// A leaf certificate with exactly the URI names given (none, several, malformed ones: tests
    /// use this to make certificates that must be refused).
    public func issue(
        commonName: String, uris: [String], validity: Duration = .seconds(365 * 86_400),
        notValidBefore: Date? = nil, now: Date = Date()
    ) throws -> IssuedCertificate {
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let start = notValidBefore ?? now.addingTimeInterval(-3600)
        let subject = try DistinguishedName {
            OrganizationName("Ballot")
            CommonName(commonName)
        }
        let authorityKey = try certificate.extensions.subjectKeyIdentifier?.keyIdentifier
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.serverAuth, .clientAuth])
            SubjectKeyIdentifier(hash: publicKey)
            AuthorityKeyIdentifier(keyIdentifier: authorityKey)
            if !uris.isEmpty {
                SubjectAlternativeNames(uris.map { GeneralName.uniformResourceIdentifier($0) })
            }
        }
        let leaf = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: start, notValidAfter: start.addingTimeInterval(validity.timeInterval),
            issuer: certificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
            issuerPrivateKey: self.key)
        return IssuedCertificate(certificate: leaf, keyPEM: key.pemRepresentation + "\n")
    }

    /// The CA certificate as PEM, ending in a newline so that files can be concatenated into a
    /// bundle: what every member trusts (`--peer-tls-ca`).
    public var certificatePEM: String {
        get throws { try certificate.serializeAsPEM().pemString + "\n" }
    }
}

/// A certificate and its private key, as issued to one node.
public struct IssuedCertificate: Sendable {
    public let certificate: Certificate
    /// The private key as PEM (PKCS #8), for `--peer-tls-key`.
    public let keyPEM: String

    public var certificatePEM: String {
        get throws { try certificate.serializeAsPEM().pemString + "\n" }
    }
}

/// Why certificates could not be made or written, and what to do.
public enum CertificateMakingError: Error, Hashable, Sendable, CustomStringConvertible {
    case unreadable(what: String, detail: String)
    case exists(path: String)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let what, let detail): "cannot use the \(what): \(detail)"
        case .exists(let path): "\(path) already exists; remove it or choose another directory (nothing was overwritten)"
        case .cannotWrite(let path, let reason): "cannot write \(path): \(reason)"
        }
    }
}

extension Duration {
    /// Seconds as `TimeInterval`, for `Date` arithmetic.
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
