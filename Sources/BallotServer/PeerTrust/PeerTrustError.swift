/// Why a node's peer credentials cannot be used. At start-up the node refuses to start with this
/// message; on SIGHUP it keeps its old credentials and logs it.
public enum PeerTrustError: Error, Hashable, Sendable, CustomStringConvertible {
    case unreadable(path: String, what: String, reason: String)
    case invalidPEM(path: String, what: String, detail: String)
    case keyDoesNotMatch(certificate: String, key: String, detail: String)
    case wrongIdentity(path: String, found: String, expected: String)
    case notTrustedByCA(path: String, ca: String, detail: String)
    case secretReadableByOthers(path: String, mode: UInt32)
    case secretNotAFile(path: String)
    case invalidSecret(path: String, detail: String)
    case tlsContext(detail: String)

    public var description: String {
        switch self {
        case .unreadable(let path, let what, let reason):
            "cannot read the \(what) \(path): \(reason)"
        case .invalidPEM(let path, let what, let detail):
            "the \(what) \(path) is not usable: \(detail); give a PEM file (`ballot certs` makes them)"
        case .keyDoesNotMatch(let certificate, let key, let detail):
            "the private key \(key) does not belong to the certificate \(certificate) (\(detail)); give the key made with it"
        case .wrongIdentity(let path, let found, let expected):
            "the certificate \(path) names \(found), but this node is \(expected); each node needs its own "
                + "certificate with the URI SAN \(expected) (`ballot certs --node …`)"
        case .notTrustedByCA(let path, let ca, let detail):
            "the certificate \(path) is not accepted under the CA \(ca): \(detail); peers would refuse it"
        case .secretReadableByOthers(let path, let mode):
            "the cluster secret file \(path) can be read or written by every user on this host (mode "
                + "\(String(mode, radix: 8))); run `chmod 600 \(path)` (only the node's user, or its group, may read it)"
        case .secretNotAFile(let path):
            "the cluster secret file \(path) is not a regular file"
        case .invalidSecret(let path, let detail):
            "the cluster secret file \(path): \(detail)"
        case .tlsContext(let detail):
            "cannot set up TLS for the peer protocol: \(detail)"
        }
    }
}

extension PeerTrustError {
    /// A PEM file's problem, for the peer TLS file `path` that holds `what`.
    init(_ problem: PEMFile.Problem, path: String, what: String) {
        switch problem {
        case .unreadable(let reason): self = .unreadable(path: path, what: what, reason: reason)
        case .notPEM(let detail): self = .invalidPEM(path: path, what: what, detail: detail)
        case .noCertificate: self = .invalidPEM(path: path, what: what, detail: "it holds no certificate")
        }
    }
}
