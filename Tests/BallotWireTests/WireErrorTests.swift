import BallotCore
import BallotWire
import Testing

@Suite("Errors, metric reasons and reject codes")
struct WireErrorTests {
    static let cases: [(WireError, String, RejectReason)] = [
        (.frameTooShort(declaredLength: 1), "malformed", .malformed),
        (.frameTooLarge(declaredLength: 70_000, limit: 65_536), "oversized", .oversized),
        (.unsupportedVersion(2), "bad_version", .badVersion),
        (.unknownFrameType(0x24), "unknown_type", .unknownType),
        (.truncatedBody(.heartbeat, field: .sequence, offset: 14, needed: 8, available: 3), "malformed", .malformed),
        (.trailingBytes(.timeoutNow, offset: 14, count: 2), "malformed", .malformed),
        (.invalidBool(.voteResponse, field: .granted, offset: 14, value: 2), "malformed", .malformed),
        (.zeroNodeID(.handshake, field: .nodeID, offset: 12), "malformed", .malformed),
        (.badMagic(offset: 6, found: [0, 0, 0, 0]), "malformed", .malformed),
        (.invalidUTF8(.handshake, field: .clusterName, offset: 21), "malformed", .malformed),
        (.invalidFieldLength(.handshake, field: .clusterNameLength, offset: 20, length: 0, allowed: 1...255),
         "malformed", .malformed),
        (.advertisedVersionTooLow(offset: 10, advertised: 0, frameVersion: 1), "bad_version", .badVersion),
        (.unknownAlgorithm(offset: 11, code: 9), "wrong_cluster", .wrongAlgorithm),
        (.incompleteFrame(needed: 14, available: 3), "malformed", .malformed),
        (.invalidClusterName(.empty), "malformed", .malformed),
        (.invalidAuthPayload(method: .none, byteCount: 3), "auth", .auth),
        (.unexpectedFrame(.heartbeat, state: "awaiting the peer's handshake"), "malformed", .malformed),
        (.wrongCluster(expected: "prod", received: "test"), "wrong_cluster", .wrongCluster),
        (.wrongAlgorithm(expected: .raft, received: .ring), "wrong_cluster", .wrongAlgorithm),
        (.unknownNode(9), "unknown_node", .unknownNode),
        (.unexpectedPeer(expected: 2, received: 3), "unknown_node", .unknownNode),
        (.selfConnection(1), "unknown_node", .unknownNode),
        (.unsupportedAuthMethod(AuthMethod(rawValue: 4)), "auth", .auth),
    ]

    @Test("each error maps to its metric reason and the reject code sent to the peer", arguments: cases)
    func mapping(error: WireError, metric: String, code: RejectReason) {
        #expect(error.metricReason == metric)
        #expect(error.rejection?.reason == code)
    }

    @Test("the metric reasons are exactly the documented labels")
    func labels() {
        #expect(WireErrorReason.allCases.map(\.rawValue) == [
            "malformed", "oversized", "wrong_cluster", "unknown_node", "bad_version", "auth", "unknown_type",
        ])
    }

    @Test("a received reject counts under its own reason; an unknown code counts as bad_version")
    func receivedRejectReasons() throws {
        let known: [(RejectReason, WireErrorReason)] = [
            (.malformed, .malformed), (.oversized, .oversized), (.wrongCluster, .wrongCluster),
            (.unknownNode, .unknownNode), (.badVersion, .badVersion), (.auth, .auth),
            (.unknownType, .unknownType), (.wrongAlgorithm, .wrongCluster),
            (try #require(RejectReason(rawValue: 99)), .badVersion),
        ]
        for (reason, metric) in known {
            #expect(WireError.rejectedByPeer(HandshakeRejection(reason: reason, message: "")).reason == metric)
        }
    }

    @Test("messages say what was wrong and where")
    func descriptions() {
        #expect(WireError.invalidBool(.voteRequest, field: .isTransfer, offset: 30, value: 7).description
            == "vote_request field is_transfer at offset 30 is 0x07; a boolean must be 0 or 1")
        #expect(WireError.unknownFrameType(0x24).description == "frame type 0x24 at offset 5 is unknown (reserved for Bully)")
        #expect(WireError.unknownFrameType(0x3F).description.hasSuffix("(reserved for Ring)"))
        #expect(WireError.frameTooLarge(declaredLength: 4_294_967_295, limit: 65_536).description
            == "frame length 4294967295 at offset 0 exceeds the limit of 65536 bytes")
        #expect(WireError.badMagic(offset: 6, found: [0x48, 0x54, 0x54, 0x50]).description
            == "handshake magic at offset 6 is 48 54 54 50; expected 42 4C 4F 54 (\"BLOT\")")
        #expect(WireError.truncatedBody(.heartbeat, field: .leaderLogTerm, offset: 30, needed: 8, available: 5).description
            == "heartbeat frame ends inside leader_log_term at offset 30: needs 8 bytes, 5 left")
    }
}
