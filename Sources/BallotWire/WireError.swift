import BallotCore

/// Everything that can be wrong with what a peer sent, or with a handshake we are about to send.
///
/// Every case is fatal to its connection: the receiver sends a rejecting ``HandshakeReply``
/// (``rejection``, when there is one) and closes. Offsets count from the first byte of the frame,
/// i.e. the first byte of its length prefix.
public enum WireError: Error, Hashable, Sendable, CustomStringConvertible {
    // MARK: Frame header
    /// The length prefix is below 2, too short for even a version and a type.
    case frameTooShort(declaredLength: UInt32)
    /// The length prefix exceeds the receiver's ``WireLimits/maxFrameLength``.
    case frameTooLarge(declaredLength: UInt32, limit: Int)
    /// The version byte names a version this implementation does not speak.
    case unsupportedVersion(UInt8)
    /// The type byte is not a known frame type of this version.
    case unknownFrameType(UInt8)

    // MARK: Frame body
    /// The body ended before `field`: it needed `needed` bytes at `offset`, only `available` remained.
    case truncatedBody(FrameType, field: WireField, offset: Int, needed: Int, available: Int)
    /// The body has `count` bytes left over after its last field.
    case trailingBytes(FrameType, offset: Int, count: Int)
    /// A boolean byte held something other than 0 or 1.
    case invalidBool(FrameType, field: WireField, offset: Int, value: UInt8)
    /// A field that must name a real node held 0.
    case zeroNodeID(FrameType, field: WireField, offset: Int)
    /// The handshake does not start with ASCII "BLOT".
    case badMagic(offset: Int, found: [UInt8])
    /// A text field is not valid UTF-8.
    case invalidUTF8(FrameType, field: WireField, offset: Int)
    /// A length-prefixed field declared a length outside what the protocol allows there.
    case invalidFieldLength(FrameType, field: WireField, offset: Int, length: Int, allowed: ClosedRange<Int>)
    /// The handshake advertises a highest version below the version of the frame carrying it.
    case advertisedVersionTooLow(offset: Int, advertised: UInt8, frameVersion: UInt8)
    /// The handshake names an election algorithm this implementation does not know.
    case unknownAlgorithm(offset: Int, code: UInt8)
    /// A buffer handed over as one whole frame holds fewer bytes than its header declares.
    case incompleteFrame(needed: Int, available: Int)
    /// A handshake or handshake reply in a frame of another version than 1: they are frozen in 1.
    case setupFrameVersion(FrameType, version: UInt8)
    /// A `member_info` URL that is not 1–255 bytes of printable ASCII (`detail` says which).
    case invalidAdvertisedURL(String)

    // MARK: Building a handshake
    /// A cluster name must be 1 to 255 bytes of UTF-8.
    case invalidClusterName(ClusterNameProblem)
    /// An auth payload must fit ``HandshakeAuth/maximumPayloadByteCount``; method `none` carries none.
    case invalidAuthPayload(method: AuthMethod, byteCount: Int)

    // MARK: Connection state and handshake policy
    /// A frame arrived that the connection's state does not allow, e.g. a vote before the handshake.
    case unexpectedFrame(FrameType, state: String)
    case wrongCluster(expected: String, received: String)
    case wrongAlgorithm(expected: ElectionAlgorithmKind, received: ElectionAlgorithmKind)
    /// The peer's node ID is not a configured member.
    case unknownNode(NodeID)
    /// The peer is a member, but not the one this node dialled.
    case unexpectedPeer(expected: NodeID, received: NodeID)
    /// The peer claims this node's own ID.
    case selfConnection(NodeID)
    /// The peer's authentication method is not one this node accepts.
    case unsupportedAuthMethod(AuthMethod)

    // MARK: Auth method 1, the cluster secret
    /// The peer's handshake chose the cluster secret, but its auth payload is not a 32-byte nonce.
    case invalidAuthNonce(byteCount: Int)
    /// The peer sent a `received` frame where its `auth_proof` was due: it has not proved it
    /// knows the secret, and nothing it sends counts until it has.
    case missingAuthProof(peer: NodeID, received: FrameType)
    /// The peer's proof matches none of the accepted secrets: the secrets differ, or the proof
    /// was made for another connection (replayed).
    case wrongAuthProof(peer: NodeID)
    /// The peer sent back the proof this node made for it: a reflection attempt.
    case reflectedAuthProof(peer: NodeID)
    /// The peer refused our handshake; nothing is sent back, the connection just closes.
    case rejectedByPeer(HandshakeRejection)

    // MARK: Mutual TLS
    /// A handshake arrived on a connection whose peer certificate has not been verified, on a node
    /// that requires one.
    case uncertifiedPeer(claimedNode: NodeID)
    /// The handshake's cluster or node ID differs from the identity in the peer's verified certificate.
    case certificateIdentityMismatch(certificate: PeerIdentity, claimedCluster: String, claimedNode: NodeID)

    /// The class of failure, for the `reason` label of connection-error metrics.
    public var reason: WireErrorReason {
        switch self {
        case .frameTooShort, .truncatedBody, .trailingBytes, .invalidBool, .zeroNodeID, .badMagic,
            .invalidUTF8, .invalidFieldLength, .incompleteFrame, .invalidClusterName, .unexpectedFrame,
            .invalidAdvertisedURL:
            .malformed
        case .invalidAuthPayload, .unsupportedAuthMethod, .invalidAuthNonce, .missingAuthProof, .wrongAuthProof,
            .reflectedAuthProof, .uncertifiedPeer, .certificateIdentityMismatch:
            .auth
        case .frameTooLarge: .oversized
        case .unsupportedVersion, .advertisedVersionTooLow, .setupFrameVersion: .badVersion
        case .unknownFrameType: .unknownType
        case .unknownAlgorithm, .wrongCluster, .wrongAlgorithm: .wrongCluster
        case .unknownNode, .unexpectedPeer, .selfConnection: .unknownNode
        case .rejectedByPeer(let rejection): rejection.reason.metricReason
        }
    }

    /// One of `malformed`, `oversized`, `wrong_cluster`, `unknown_node`, `bad_version`, `auth`,
    /// `unknown_type`.
    public var metricReason: String { reason.rawValue }

    /// What to send the peer before closing, or `nil` when the peer is the one that refused.
    public var rejection: HandshakeRejection? {
        let code: RejectReason
        switch self {
        case .rejectedByPeer: return nil
        case .unknownAlgorithm, .wrongAlgorithm: code = .wrongAlgorithm
        default:
            switch reason {
            case .malformed: code = .malformed
            case .oversized: code = .oversized
            case .wrongCluster: code = .wrongCluster
            case .unknownNode: code = .unknownNode
            case .badVersion: code = .badVersion
            case .auth: code = .auth
            case .unknownType: code = .unknownType
            }
        }
        return HandshakeRejection(reason: code, message: description)
    }

    public var description: String {
        switch self {
        case .frameTooShort(let length):
            "frame length \(length) at offset 0 is below 2: a frame holds at least a version and a type byte"
        case .frameTooLarge(let length, let limit):
            "frame length \(length) at offset 0 exceeds the limit of \(limit) bytes"
        case .unsupportedVersion(let version):
            "protocol version \(version) at offset 4 is not supported; this node speaks "
                + "\(WireVersion.supported.lowerBound)...\(WireVersion.supported.upperBound)"
        case .unknownFrameType(let code):
            "frame type 0x\(hex(code)) at offset 5 is unknown (\(FrameType.reservation(of: code)))"
        case .truncatedBody(let type, let field, let offset, let needed, let available):
            "\(type) frame ends inside \(field) at offset \(offset): needs \(needed) bytes, \(available) left"
        case .trailingBytes(let type, let offset, let count):
            "\(type) frame has \(count) unexpected trailing bytes at offset \(offset)"
        case .invalidBool(let type, let field, let offset, let value):
            "\(type) field \(field) at offset \(offset) is 0x\(hex(value)); a boolean must be 0 or 1"
        case .zeroNodeID(let type, let field, let offset):
            "\(type) field \(field) at offset \(offset) is node 0, which is reserved for \"no node\""
        case .badMagic(let offset, let found):
            "handshake magic at offset \(offset) is \(found.map(hex).joined(separator: " ")); expected 42 4C 4F 54 (\"BLOT\")"
        case .invalidUTF8(let type, let field, let offset):
            "\(type) field \(field) at offset \(offset) is not valid UTF-8"
        case .invalidFieldLength(let type, let field, let offset, let length, let allowed):
            "\(type) field \(field) at offset \(offset) declares \(length) bytes; allowed "
                + "\(allowed.lowerBound)...\(allowed.upperBound)"
        case .advertisedVersionTooLow(let offset, let advertised, let frameVersion):
            "handshake max_version \(advertised) at offset \(offset) is below the frame's version \(frameVersion)"
        case .unknownAlgorithm(let offset, let code):
            "handshake algorithm \(code) at offset \(offset) is unknown; expected 1 (raft), 2 (bully) or 3 (ring)"
        case .incompleteFrame(let needed, let available):
            "incomplete frame: needs \(needed) bytes, got \(available)"
        case .setupFrameVersion(let type, let version):
            "\(type) frame has version \(version) at offset 4; connection-opening frames are always version 1"
        case .invalidAdvertisedURL(let detail):
            "member_info field advertised_http \(detail)"
        case .invalidClusterName(let problem):
            "the handshake's cluster name is invalid: \(problem)"
        case .invalidAuthPayload(let method, let count):
            method == .none
                ? "auth method none carries no payload, got \(count) bytes"
                : "auth payload of \(count) bytes exceeds \(HandshakeAuth.maximumPayloadByteCount)"
        case .unexpectedFrame(let type, let state):
            "unexpected \(type) frame while \(state)"
        case .wrongCluster(let expected, let received):
            // Quoted and escaped: the peer chose this text, and it ends up in our logs and theirs.
            "peer belongs to cluster \(received.debugDescription), this node to \(expected.debugDescription)"
        case .wrongAlgorithm(let expected, let received):
            "peer runs \(received), this node runs \(expected)"
        case .unknownNode(let id):
            "node \(id) is not a configured member of this cluster"
        case .unexpectedPeer(let expected, let received):
            "dialled node \(expected) but node \(received) answered"
        case .selfConnection(let id):
            "peer claims this node's own ID \(id)"
        case .unsupportedAuthMethod(let method):
            "auth \(method) is not accepted by this node; every member must use the same auth method "
                + "(a cluster secret on all of them, or on none)"
        case .invalidAuthNonce(let count):
            "auth method 1 (cluster secret) needs a nonce of exactly \(AuthNonce.byteCount) bytes as the "
                + "handshake's auth_payload, got \(count)"
        case .missingAuthProof(let peer, let received):
            "node \(peer) sent \(received) before proving it knows the cluster secret (auth_proof expected)"
        case .wrongAuthProof(let peer):
            "the auth_proof of node \(peer) matches none of this node's cluster secrets: the secret files "
                + "differ, or the proof was recorded from another connection"
        case .reflectedAuthProof(let peer):
            "the peer claiming node \(peer) sent back this node's own auth_proof (a reflection attempt)"
        case .rejectedByPeer(let rejection):
            "peer rejected the connection: \(rejection)"
        case .uncertifiedPeer(let node):
            "the peer claiming node \(node) sent its handshake before presenting a verified certificate"
        case .certificateIdentityMismatch(let certificate, let cluster, let node):
            "the peer's certificate names \(certificate) but its handshake claims node \(node) of cluster "
                + "\(cluster.debugDescription)"
        }
    }
}

/// The metrics label of a ``WireError``: a small, fixed set so dashboards can enumerate it.
public enum WireErrorReason: String, Hashable, Sendable, CaseIterable {
    case malformed
    case oversized
    case wrongCluster = "wrong_cluster"
    case unknownNode = "unknown_node"
    case badVersion = "bad_version"
    case auth
    case unknownType = "unknown_type"
}

/// The name of a field in a frame body, as the protocol document spells it.
public enum WireField: String, Hashable, Sendable, CustomStringConvertible {
    case term
    case lastLogIndex = "last_log_index"
    case lastLogTerm = "last_log_term"
    case isTransfer = "is_transfer"
    case granted
    case sequence
    case leaderLogIndex = "leader_log_index"
    case leaderLogTerm = "leader_log_term"
    case transferTarget = "transfer_target"
    case epoch
    case candidate
    case coordinator
    case magic
    case maxVersion = "max_version"
    case algorithm
    case nodeID = "node_id"
    case clusterNameLength = "cluster_name_length"
    case clusterName = "cluster_name"
    case authMethod = "auth_method"
    case authPayloadLength = "auth_payload_length"
    case authPayload = "auth_payload"
    case status
    case messageLength = "message_length"
    case message
    case proof
    case priority
    case eligible
    case advertisedHTTPLength = "advertised_http_length"
    case advertisedHTTP = "advertised_http"

    public var description: String { rawValue }
}

func hex(_ byte: UInt8) -> String {
    let digits = Array("0123456789ABCDEF")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
}
