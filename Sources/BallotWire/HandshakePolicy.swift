import BallotCore

/// Who this node is and whom it will talk to: the handshake it sends, and the checks a peer's
/// handshake must pass before any election message from that peer is accepted.
public struct HandshakePolicy: Hashable, Sendable {
    public let localNode: NodeID
    public let clusterName: ClusterName
    public let membership: Membership
    public let algorithm: ElectionAlgorithmKind
    /// The credentials this node presents.
    public let localAuth: HandshakeAuth
    /// The methods a peer may present. Version 1 defines only ``AuthMethod/none``.
    public let acceptedAuthMethods: Set<AuthMethod>

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
    }

    /// The handshake this node opens every connection with.
    public var localHandshake: Handshake {
        Handshake(nodeID: localNode, clusterName: clusterName, algorithm: algorithm, auth: localAuth)
    }

    /// Checks a peer's handshake. `expectedPeer` is the node this side dialled, or `nil` for a
    /// connection this side accepted (any other member may connect).
    ///
    /// The cluster is checked first, since a foreign cluster's node IDs mean nothing here; then the
    /// algorithm, then the node's identity, then its credentials. The frame version was already
    /// checked by the decoder.
    public func check(_ handshake: Handshake, expectedPeer: NodeID?) throws(WireError) {
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
