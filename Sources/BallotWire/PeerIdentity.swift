import BallotCore

/// Who a peer's certificate says it is: a member of one cluster with one node ID, written in the
/// certificate as the URI subject alternative name `ballot://<cluster>/<node-id>`.
///
/// Under mutual TLS the transport hands the verified certificate's identity to the
/// ``PeerSession``, and ``HandshakePolicy/check(_:expectedPeer:certifiedAs:)`` refuses a
/// handshake whose cluster or node ID differ from it (`auth`): a certificate binds its holder to
/// one node, so a member cannot speak for another, and an outsider without a certificate from
/// the cluster's CA cannot speak at all.
public struct PeerIdentity: Hashable, Sendable, CustomStringConvertible {
    /// The URI scheme of a node identity.
    public static let scheme = "ballot"

    public let clusterName: ClusterName
    public let node: NodeID

    public init(clusterName: ClusterName, node: NodeID) {
        self.clusterName = clusterName
        self.node = node
    }

    /// `ballot://<cluster>/<node-id>`, e.g. `ballot://prod-a/3`.
    public var uri: String { "\(Self.scheme)://\(clusterName.rawValue)/\(node.rawValue)" }

    public var description: String { uri }

    /// Parses `ballot://<cluster>/<node-id>`: the scheme in lower case, a valid cluster name, and a
    /// node ID written as a positive decimal without leading zeros; nothing else (no port, path,
    /// query or fragment), so that one identity has exactly one spelling.
    public init(uri: String) throws(PeerIdentityProblem) {
        let prefix = "\(Self.scheme)://"
        guard uri.hasPrefix(prefix) else { throw .notABallotURI(uri) }
        let rest = uri.dropFirst(prefix.count)
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw .malformed(uri) }
        let cluster: ClusterName
        do {
            cluster = try ClusterName(String(parts[0]))
        } catch {
            throw .invalidCluster(uri, error)
        }
        let digits = parts[1]
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.first != "0",
              let value = UInt64(digits), let node = NodeID(value)
        else { throw .invalidNode(uri) }
        self.init(clusterName: cluster, node: node)
    }

    /// The one node identity among a certificate's URI names. Other URIs are ignored; none, or more
    /// than one `ballot:` URI, is refused, since a certificate must name exactly one node.
    public static func fromCertificate(uris: [String]) throws(PeerIdentityProblem) -> PeerIdentity {
        let candidates = uris.filter { $0.hasPrefix("\(scheme):") }
        guard let only = candidates.first else { throw .missing(uris: uris) }
        guard candidates.count == 1 else { throw .ambiguous(candidates) }
        return try PeerIdentity(uri: only)
    }
}

/// Why a certificate does not name a node.
public enum PeerIdentityProblem: Error, Hashable, Sendable, CustomStringConvertible {
    case missing(uris: [String])
    case ambiguous([String])
    case notABallotURI(String)
    case malformed(String)
    case invalidCluster(String, ClusterNameProblem)
    case invalidNode(String)

    public var description: String {
        let form = "ballot://<cluster>/<node-id>"
        return switch self {
        case .missing(let uris):
            "the certificate has no URI subject alternative name \(form)"
                + (uris.isEmpty ? "" : " (its URIs: \(uris.map(\.debugDescription).joined(separator: ", ")))")
        case .ambiguous(let uris):
            "the certificate names more than one node (\(uris.map(\.debugDescription).joined(separator: ", "))); "
                + "a node certificate carries exactly one \(form)"
        case .notABallotURI(let uri): "\(uri.debugDescription) is not a node identity \(form)"
        case .malformed(let uri): "\(uri.debugDescription) is not of the form \(form)"
        case .invalidCluster(let uri, let problem): "\(uri.debugDescription): cluster name: \(problem)"
        case .invalidNode(let uri):
            "\(uri.debugDescription): the node ID must be a positive whole number without leading zeros"
        }
    }
}
