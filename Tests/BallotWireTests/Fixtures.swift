import BallotCore
import BallotWire

/// Sample values for the wire tests, chosen to hit every edge: zero, the largest UInt64, optional
/// fields both absent and present, the shortest and longest variable-length fields.
enum Fixtures {
    static let prod = clusterName("prod")
    static let largestTerm = Term(UInt64.max)
    static let largestNode = NodeID(UInt64.max)!

    static func clusterName(_ value: String) -> ClusterName {
        do { return try ClusterName(value) } catch { fatalError("fixture cluster name \(value): \(error)") }
    }

    static func auth(_ method: UInt8, payload: [UInt8]) -> HandshakeAuth {
        do { return try HandshakeAuth(method: AuthMethod(rawValue: method), payload: payload) } catch {
            fatalError("fixture auth: \(error)")
        }
    }

    static let logPositions: [LogPosition] = [
        .empty, LogPosition(index: 7, term: 3), LogPosition(index: .max, term: largestTerm),
    ]

    /// Every `Message` case, each with its edge values.
    static let messages: [Message] = {
        var messages: [Message] = []
        for term in [Term.zero, 1, largestTerm] {
            for lastLog in logPositions {
                for isTransfer in [false, true] {
                    let request = VoteRequest(term: term, lastLog: lastLog, isTransfer: isTransfer)
                    messages += [.preVoteRequest(request), .voteRequest(request)]
                }
                for (sequence, candidacy) in zip([0, 1, UInt64.max], [
                    Candidacy.default, Candidacy(eligible: false, priority: 1), Candidacy(eligible: true, priority: .max),
                ]) {
                    messages.append(.heartbeatResponse(HeartbeatResponse(
                        term: term, sequence: sequence, lastLog: lastLog, candidacy: candidacy)))
                    for target in [nil, NodeID(1), largestNode] {
                        messages.append(.heartbeat(Heartbeat(
                            term: term, sequence: sequence, leaderLog: lastLog, transferTarget: target)))
                    }
                }
            }
            for granted in [false, true] {
                let response = VoteResponse(term: term, granted: granted)
                messages += [.preVoteResponse(response), .voteResponse(response)]
            }
            messages.append(.timeoutNow(TimeoutNow(term: term)))
            messages.append(.leaseReleased(LeaseReleased(term: term)))
            messages += [
                .bullyElection(BullyElection(epoch: term)), .bullyAnswer(BullyAnswer(epoch: term)),
                .bullyCoordinator(BullyCoordinator(epoch: term)), .bullyHeartbeat(BullyHeartbeat(epoch: term)),
                .ringHeartbeat(RingHeartbeat(epoch: term)),
            ]
            for sequence in [0, 1, UInt64.max] {
                messages.append(.ringAck(RingAck(epoch: term, sequence: sequence)))
                for node in [NodeID(1), largestNode] {
                    messages.append(.ringElection(RingElection(epoch: term, candidate: node, sequence: sequence)))
                    messages.append(.ringElected(RingElected(epoch: term, coordinator: node, sequence: sequence)))
                }
            }
        }
        return messages
    }()

    static let handshakes: [Handshake] = [
        Handshake(nodeID: 1, clusterName: prod, algorithm: .raft),
        Handshake(nodeID: largestNode, clusterName: clusterName("k"), algorithm: .bully),
        Handshake(nodeID: 3, clusterName: clusterName(String(repeating: "n", count: 255)), algorithm: .ring),
        Handshake(nodeID: 4, clusterName: clusterName(String(repeating: "k", count: 255)), algorithm: .raft),
        Handshake(
            maxVersion: 255, nodeID: 5, clusterName: prod, algorithm: .raft, auth: auth(7, payload: [])),
        Handshake(nodeID: 6, clusterName: prod, algorithm: .raft, auth: auth(0xFF, payload: [0, 1, 0xFF])),
        Handshake(
            nodeID: 7, clusterName: clusterName(String(repeating: "e", count: 127)), algorithm: .raft,
            auth: auth(2, payload: (0..<HandshakeAuth.maximumPayloadByteCount).map { UInt8(truncatingIfNeeded: $0) })),
    ]

    static let replies: [HandshakeReply] = [
        .accepted,
        .rejected(HandshakeRejection(reason: .wrongCluster, message: "peer belongs to cluster \"test\"")),
        .rejected(HandshakeRejection(reason: .unknownNode, message: "")),
        .rejected(HandshakeRejection(reason: RejectReason(rawValue: 200)!, message: "from a newer release")),
        .rejected(HandshakeRejection(reason: .badVersion, message: String(repeating: "ü", count: 127))),
    ]

    /// Every frame above: messages, handshakes and replies.
    /// Auth method 1 proofs: all zeros, all ones, and a counting pattern.
    static let proofs: [AuthProof] = [
        AuthProof(bytes: Array(repeating: 0x00, count: AuthProof.byteCount))!,
        AuthProof(bytes: Array(repeating: 0xFF, count: AuthProof.byteCount))!,
        AuthProof(bytes: (0..<UInt8(AuthProof.byteCount)).map { $0 &* 7 })!,
    ]

    /// Version 2's member information: none, a short URL, the longest one.
    static let memberInfos: [MemberInfo] = [
        .none, try! MemberInfo(advertisedHTTP: "http://10.0.0.1:9101"),
        try! MemberInfo(advertisedHTTP: "https://" + String(repeating: "x", count: 247)),
    ]

    static let frames: [PeerFrame] =
        handshakes.map(PeerFrame.handshake) + replies.map(PeerFrame.handshakeReply) + proofs.map(PeerFrame.authProof)
        + messages.map(PeerFrame.message) + memberInfos.map(PeerFrame.memberInfo)

    /// A smaller set with one frame of each type, for tests that are quadratic in frame size.
    static let oneOfEachType: [PeerFrame] = {
        var seen = Set<FrameType>()
        return frames.filter { seen.insert($0.frameType).inserted }
    }()

    /// All frames in `bytes`, fed to a fresh streaming decoder in chunks of `chunkSize`.
    static func decodeStream(_ bytes: [UInt8], chunkSize: Int, limits: WireLimits = .default) throws -> [PeerFrame] {
        var decoder = FrameDecoder(limits: limits)
        var frames: [PeerFrame] = []
        var index = 0
        while index < bytes.count {
            let end = min(index + chunkSize, bytes.count)
            decoder.append(bytes[index..<end])
            index = end
            // Each frame takes at least 6 bytes, so this bound is never the one that stops the loop.
            for _ in 0...(end / FrameLayout.headerLength) {
                guard let frame = try decoder.nextFrame() else { break }
                frames.append(frame)
            }
        }
        return frames
    }

    static func bytes(_ hex: String) -> [UInt8] {
        hex.split(separator: " ").map { UInt8($0, radix: 16)! }
    }
}
