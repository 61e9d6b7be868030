import BallotCore

/// Who this node is and whom it will talk to: the handshake it sends, and the checks a peer's
/// handshake must pass before any election message from that peer is accepted.
public struct HandshakePolicy: Hashable, Sendable {
    public let localNode: NodeID
    public let clusterName: ClusterName
    public let membership: Membership
    public let algorithm: ElectionAlgorithmKind
    /// The credentials this node presents. Under the cluster secret this is method 1 with an
    /// empty payload: each session puts its own fresh nonce there (``handshake(nonce:)``).
    public let localAuth: HandshakeAuth
    /// The methods a peer may present.
    public let acceptedAuthMethods: Set<AuthMethod>
    /// The secrets of auth method 1, when this node uses it; `nil` otherwise.
    public let clusterSecrets: ClusterSecrets?
    /// Whether every peer must present a verified certificate naming it (mutual TLS) before its
    /// handshake counts: see ``requiringCertificates()``.
    public private(set) var requiresCertificate = false

    /// A policy whose handshake alone carries its credentials: method 0 (none) by default.
    public init(
        localNode: NodeID, clusterName: ClusterName, membership: Membership, algorithm: ElectionAlgorithmKind,
        localAuth: HandshakeAuth = .none, acceptedAuthMethods: Set<AuthMethod> = [.none]
    ) {
        self.localNode = localNode
        self.clusterName = clusterName
        self.membership = membership
        self.algorithm = algorithm
        self.localAuth = localAuth
        self.acceptedAuthMethods = acceptedAuthMethods
        self.clusterSecrets = nil
    }

    /// A policy under auth method 1: this node proves it knows `clusterSecrets.current`, and
    /// requires every peer to prove it knows one of `clusterSecrets.accepted`. Peers without the
    /// method are refused (`auth`).
    public init(
        localNode: NodeID, clusterName: ClusterName, membership: Membership, algorithm: ElectionAlgorithmKind,
        clusterSecrets: ClusterSecrets
    ) {
        self.localNode = localNode
        self.clusterName = clusterName
        self.membership = membership
        self.algorithm = algorithm
        self.localAuth = HandshakeAuth(checkedMethod: .clusterSecret, payload: [])
        self.acceptedAuthMethods = [.clusterSecret]
        self.clusterSecrets = clusterSecrets
    }

    /// This policy, also requiring that the transport verified the peer's certificate and that the
    /// certificate's ``PeerIdentity`` is the handshake's cluster and node. Combines with any auth
    /// method: under mutual TLS and the cluster secret, both are checked.
    public func requiringCertificates() -> HandshakePolicy {
        var policy = self
        policy.requiresCertificate = true
        return policy
    }

    /// The handshake this node opens every connection with, for a method without a challenge.
    public var localHandshake: Handshake {
        Handshake(nodeID: localNode, clusterName: clusterName, algorithm: algorithm, auth: localAuth)
    }

    /// The handshake a session opens with: under the cluster secret it carries `nonce`, the
    /// session's own; otherwise it is ``localHandshake`` and `nonce` is not used.
    public func handshake(nonce: AuthNonce) -> Handshake {
        guard clusterSecrets != nil else { return localHandshake }
        return Handshake(
            nodeID: localNode, clusterName: clusterName, algorithm: algorithm,
            auth: HandshakeAuth(checkedMethod: .clusterSecret, payload: nonce.bytes))
    }

    /// Checks a peer's handshake. `expectedPeer` is the node this side dialled, or `nil` for a
    /// connection this side accepted (any other member may connect).
    ///
    /// The cluster is checked first, since a foreign cluster's node IDs mean nothing here; then the
    /// algorithm, then the node's identity, then its credentials' method. The frame version was
    /// already checked by the decoder. Under the cluster secret, passing this check only admits
    /// the peer to the proof exchange (``PeerSession``).
    public func check(_ handshake: Handshake, expectedPeer: NodeID?) throws(WireError) {
        try check(handshake, expectedPeer: expectedPeer, certifiedAs: nil)
    }

    /// Checks a peer's handshake against its verified certificate's identity, then as
    /// ``check(_:expectedPeer:)``: this is the one place where a certificate and a handshake meet.
    ///
    /// When ``requiresCertificate`` is set, the handshake must come from a peer whose certificate
    /// was verified (`certifiedAs` not `nil`), and it must claim exactly the cluster and node the
    /// certificate names — before anything else it claims is looked at, since nothing an
    /// unauthenticated peer says counts. Otherwise `certifiedAs` is still compared when given.
    public func check(_ handshake: Handshake, expectedPeer: NodeID?, certifiedAs certificate: PeerIdentity?)
        throws(WireError)
    {
        if requiresCertificate && certificate == nil { throw .uncertifiedPeer(claimedNode: handshake.nodeID) }
        if let certificate, certificate.clusterName != handshake.clusterName || certificate.node != handshake.nodeID {
            throw .certificateIdentityMismatch(
                certificate: certificate, claimedCluster: handshake.clusterName.rawValue, claimedNode: handshake.nodeID)
        }
        guard handshake.clusterName == clusterName else {
            throw .wrongCluster(expected: clusterName.rawValue, received: handshake.clusterName.rawValue)
        }
        guard handshake.algorithm == algorithm else {
            throw .wrongAlgorithm(expected: algorithm, received: handshake.algorithm)
        }
        guard handshake.nodeID != localNode else { throw .selfConnection(handshake.nodeID) }
        guard membership.contains(handshake.nodeID) else { throw .unknownNode(handshake.nodeID) }
        if let expectedPeer, expectedPeer != handshake.nodeID {
            throw .unexpectedPeer(expected: expectedPeer, received: handshake.nodeID)
        }
        guard acceptedAuthMethods.contains(handshake.auth.method) else {
            throw .unsupportedAuthMethod(handshake.auth.method)
        }
    }
}
