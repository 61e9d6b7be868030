import BallotCore

/// The first frame each side of a connection sends: who it is, which cluster it belongs to, which
/// election algorithm it runs, and how it proves it (auth method 0, none, or 1, the cluster secret).
///
/// A receiver accepts no election message on a connection before it has checked the peer's
/// handshake (see ``HandshakePolicy``) and received the peer's accepting ``HandshakeReply``.
public struct Handshake: Hashable, Sendable {
    /// ASCII "BLOT": lets a receiver tell a Ballot peer from anything else that connected.
    public static let magic: [UInt8] = [0x42, 0x4C, 0x4F, 0x54]
    /// Bytes of a handshake body without the cluster name and auth payload.
    public static let fixedBodyLength = 4 + 1 + 1 + 8 + 1 + 1 + 2
    /// The longest possible handshake body.
    public static let maximumBodyLength = fixedBodyLength + ClusterName.maximumLength
        + HandshakeAuth.maximumPayloadByteCount

    /// The highest protocol version the sender speaks. The connection continues in
    /// `WireVersion.negotiated(local:remote:)` of both sides' values; it is at least the frame's
    /// own version.
    public let maxVersion: UInt8
    /// The algorithm the sender runs; both sides must run the same one.
    public let algorithm: ElectionAlgorithmKind
    /// The sender's node ID; never 0 on the wire.
    public let nodeID: NodeID
    public let clusterName: ClusterName
    public let auth: HandshakeAuth

    /// A handshake as this implementation sends it: advertising every version it speaks.
    public init(nodeID: NodeID, clusterName: ClusterName, algorithm: ElectionAlgorithmKind, auth: HandshakeAuth = .none) {
        self.init(
            maxVersion: WireVersion.supported.upperBound, nodeID: nodeID, clusterName: clusterName,
            algorithm: algorithm, auth: auth)
    }

    /// A handshake with an explicit advertised version, as decoded from a peer.
    /// `maxVersion` must be at least 1 (the decoder rejects anything lower).
    public init(
        maxVersion: UInt8, nodeID: NodeID, clusterName: ClusterName, algorithm: ElectionAlgorithmKind,
        auth: HandshakeAuth
    ) {
        precondition(maxVersion >= 1, "a handshake advertises at least protocol version 1")
        self.maxVersion = maxVersion
        self.nodeID = nodeID
        self.clusterName = clusterName
        self.algorithm = algorithm
        self.auth = auth
    }

    /// The body length of this handshake on the wire.
    public var bodyLength: Int { Self.fixedBodyLength + clusterName.byteCount + auth.payload.count }
}

extension ElectionAlgorithmKind {
    /// The handshake's algorithm byte: raft 1, bully 2, ring 3.
    public var wireCode: UInt8 {
        switch self {
        case .raft: 1
        case .bully: 2
        case .ring: 3
        }
    }

    public init?(wireCode: UInt8) {
        guard let kind = Self.allCases.first(where: { $0.wireCode == wireCode }) else { return nil }
        self = kind
    }
}

/// How a handshake's sender proves its identity: a method byte and an opaque payload.
///
/// ``AuthMethod/none`` carries an empty payload; ``AuthMethod/clusterSecret`` carries the
/// sender's ``AuthNonce``. The payload is opaque to the decoder: the method gives it meaning.
public struct HandshakeAuth: Hashable, Sendable {
    /// Payloads are bounded so that the largest handshake fits the smallest permitted frame limit.
    public static let maximumPayloadByteCount = 4096
    public static let none = HandshakeAuth(checkedMethod: .none, payload: [])

    public let method: AuthMethod
    public let payload: [UInt8]

    /// Checks the payload fits the protocol's bound and that ``AuthMethod/none`` carries nothing.
    public init(method: AuthMethod, payload: [UInt8]) throws(WireError) {
        guard payload.count <= Self.maximumPayloadByteCount, method != .none || payload.isEmpty else {
            throw .invalidAuthPayload(method: method, byteCount: payload.count)
        }
        self.init(checkedMethod: method, payload: payload)
    }

    init(checkedMethod method: AuthMethod, payload: [UInt8]) {
        self.method = method
        self.payload = payload
    }
}

/// The authentication method byte. Unknown values decode fine and are refused by policy, so a
/// node learns *why* a newer peer was turned away (`auth`), rather than seeing a malformed frame.
public struct AuthMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8

    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// No authentication; the payload must be empty.
    public static let none = AuthMethod(rawValue: 0)
    /// A shared cluster secret, proved by an `auth_proof` frame; the payload is a 32-byte nonce.
    public static let clusterSecret = AuthMethod(rawValue: 1)

    public var description: String {
        switch rawValue {
        case 0: "none"
        case 1: "method 1 (cluster secret)"
        default: "method \(rawValue)"
        }
    }
}
