import BallotCore
import BallotWire
import Testing

/// Strict decoding of frame bodies: every field checked, offsets reported from the frame's first byte.
@Suite("Body validation")
struct BodyValidationTests {
    /// A frame of `type` with `body`, with a length prefix that matches.
    static func frame(_ type: UInt8, _ body: [UInt8], version: UInt8 = 1) -> [UInt8] {
        let length = UInt32(body.count + 2)
        return [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
            + [version, type] + body
    }

    static func u64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) } }

    static func handshakeBody(
        magic: [UInt8] = Handshake.magic, maxVersion: UInt8 = 1, algorithm: UInt8 = 1, node: UInt64 = 2,
        name: [UInt8] = Array("prod".utf8), nameLength: UInt8? = nil, authMethod: UInt8 = 0, auth: [UInt8] = [],
        authLength: UInt16? = nil
    ) -> [UInt8] {
        let authCount = authLength ?? UInt16(auth.count)
        var body: [UInt8] = magic
        body += [maxVersion, algorithm]
        body += u64(node)
        body.append(nameLength ?? UInt8(name.count))
        body += name
        body += [authMethod, UInt8(authCount >> 8), UInt8(authCount & 0xFF)]
        body += auth
        return body
    }

    @Test("a well-formed handshake built by hand decodes")
    func handBuiltHandshake() throws {
        let decoded = try FrameDecoder.decode(Self.frame(0x01, Self.handshakeBody()))
        #expect(decoded == .handshake(Handshake(maxVersion: 1, nodeID: 2, clusterName: Fixtures.prod, algorithm: .raft,
                                                auth: .none)))
    }

    @Test("a handshake must start with BLOT")
    func badMagic() {
        let bytes = Self.frame(0x01, Self.handshakeBody(magic: Array("HTTP".utf8)))
        #expect(throws: WireError.badMagic(offset: 6, found: [0x48, 0x54, 0x54, 0x50])) { try FrameDecoder.decode(bytes) }
    }

    @Test("a handshake may not advertise a version below the frame's own")
    func advertisedVersionZero() {
        let bytes = Self.frame(0x01, Self.handshakeBody(maxVersion: 0))
        #expect(throws: WireError.advertisedVersionTooLow(offset: 10, advertised: 0, frameVersion: 1)) {
            try FrameDecoder.decode(bytes)
        }
    }

    @Test("an unknown algorithm code is refused", arguments: [0, 4, 0xFF] as [UInt8])
    func unknownAlgorithm(code: UInt8) {
        let bytes = Self.frame(0x01, Self.handshakeBody(algorithm: code))
        #expect(throws: WireError.unknownAlgorithm(offset: 11, code: code)) { try FrameDecoder.decode(bytes) }
    }

    @Test("node 0 cannot introduce itself")
    func zeroNodeInHandshake() {
        let bytes = Self.frame(0x01, Self.handshakeBody(node: 0))
        #expect(throws: WireError.zeroNodeID(.handshake, field: .nodeID, offset: 12)) { try FrameDecoder.decode(bytes) }
    }

    @Test("a cluster name must be valid UTF-8", arguments: [
        [0xFF] as [UInt8], [0x70, 0xC3], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
    ])
    func invalidUTF8ClusterName(name: [UInt8]) {
        let bytes = Self.frame(0x01, Self.handshakeBody(name: name))
        #expect(throws: WireError.invalidUTF8(.handshake, field: .clusterName, offset: 21)) {
            try FrameDecoder.decode(bytes)
        }
    }

    @Test("a cluster name cannot be empty")
    func emptyClusterName() {
        let bytes = Self.frame(0x01, Self.handshakeBody(name: []))
        #expect(throws: WireError.invalidFieldLength(
            .handshake, field: .clusterNameLength, offset: 20, length: 0, allowed: 1...255)) {
            try FrameDecoder.decode(bytes)
        }
    }

    @Test("a cluster name outside the allowed characters is refused")
    func clusterNameCharacters() {
        let bytes = Self.frame(0x01, Self.handshakeBody(name: Array("a b".utf8)))
        #expect(throws: WireError.invalidClusterName(.invalidCharacter(" "))) { try FrameDecoder.decode(bytes) }
    }

    @Test("a cluster name longer than the frame is truncation, not a crash")
    func clusterNameBeyondBody() {
        let bytes = Self.frame(0x01, Self.handshakeBody(nameLength: 200))
        #expect(throws: WireError.truncatedBody(.handshake, field: .clusterName, offset: 21, needed: 200, available: 7)) {
            try FrameDecoder.decode(bytes)
        }
    }

    @Test("auth method none carries no payload; other methods at most 4096 bytes")
    func authPayloadBounds() {
        let withPayload = Self.frame(0x01, Self.handshakeBody(authMethod: 0, auth: [1]))
        #expect(throws: WireError.invalidFieldLength(
            .handshake, field: .authPayloadLength, offset: 26, length: 1, allowed: 0...0)) {
            try FrameDecoder.decode(withPayload)
        }
        let tooLong = Self.frame(0x01, Self.handshakeBody(authMethod: 1, authLength: 4097))
        #expect(throws: WireError.invalidFieldLength(
            .handshake, field: .authPayloadLength, offset: 26, length: 4097, allowed: 0...4096)) {
            try FrameDecoder.decode(tooLong)
        }
        let beyondBody = Self.frame(0x01, Self.handshakeBody(authMethod: 1, auth: [1, 2], authLength: 3))
        #expect(throws: WireError.truncatedBody(.handshake, field: .authPayload, offset: 28, needed: 3, available: 2)) {
            try FrameDecoder.decode(beyondBody)
        }
    }

    @Test("building a handshake enforces the same bounds the decoder does")
    func constructionBounds() {
        #expect(throws: ClusterNameProblem.empty) { try ClusterName("") }
        #expect(throws: ClusterNameProblem.tooLong(bytes: 256)) { try ClusterName(String(repeating: "x", count: 256)) }
        #expect(throws: ClusterNameProblem.invalidCharacter("ß")) { try ClusterName(String(repeating: "ß", count: 10)) }
        #expect(throws: WireError.invalidAuthPayload(method: .none, byteCount: 1)) {
            try HandshakeAuth(method: .none, payload: [0])
        }
        #expect(throws: WireError.invalidAuthPayload(method: AuthMethod(rawValue: 1), byteCount: 4097)) {
            try HandshakeAuth(method: AuthMethod(rawValue: 1), payload: [UInt8](repeating: 0, count: 4097))
        }
    }

    @Test("a boolean byte must be 0 or 1", arguments: [2, 0x80, 0xFF] as [UInt8])
    func invalidBool(value: UInt8) {
        let request = Self.frame(0x12, Self.u64(1) + Self.u64(2) + Self.u64(3) + [value])
        #expect(throws: WireError.invalidBool(.voteRequest, field: .isTransfer, offset: 30, value: value)) {
            try FrameDecoder.decode(request)
        }
        let response = Self.frame(0x11, Self.u64(1) + [value])
        #expect(throws: WireError.invalidBool(.preVoteResponse, field: .granted, offset: 14, value: value)) {
            try FrameDecoder.decode(response)
        }
    }

    @Test("a ring token must name a real candidate or coordinator")
    func zeroNodeInRingToken() {
        let election = Self.frame(0x30, Self.u64(1) + Self.u64(0) + Self.u64(5))
        #expect(throws: WireError.zeroNodeID(.ringElection, field: .candidate, offset: 14)) {
            try FrameDecoder.decode(election)
        }
        let elected = Self.frame(0x31, Self.u64(1) + Self.u64(0) + Self.u64(5))
        #expect(throws: WireError.zeroNodeID(.ringElected, field: .coordinator, offset: 14)) {
            try FrameDecoder.decode(elected)
        }
    }

    @Test("a Bully or Ring body cut short names the field it ended in", arguments: [
        (0x20, [] as [UInt8], WireField.epoch, 6, 0),
        (0x23, [1, 2, 3], .epoch, 6, 3),
        (0x30, Self.u64(1) + [0, 0], .candidate, 14, 2),
        (0x31, Self.u64(1) + Self.u64(2), .sequence, 22, 0),
        (0x32, Self.u64(1) + [9], .sequence, 14, 1),
    ] as [(UInt8, [UInt8], WireField, Int, Int)])
    func truncatedBullyAndRingBodies(code: UInt8, body: [UInt8], field: WireField, offset: Int, available: Int) throws {
        let type = try #require(FrameType(rawValue: code))
        #expect(throws: WireError.truncatedBody(type, field: field, offset: offset, needed: 8, available: available)) {
            try FrameDecoder.decode(Self.frame(code, body))
        }
    }

    @Test("a body with bytes after its last field is malformed", arguments: Fixtures.oneOfEachType)
    func trailingBytes(frame: PeerFrame) {
        let bytes = FrameEncoder.encode(frame)
        let padded = Self.frame(frame.frameType.rawValue, Array(bytes[6...]) + [0], version: bytes[4])
        #expect(throws: WireError.trailingBytes(frame.frameType, offset: bytes.count, count: 1)) {
            try FrameDecoder.decode(padded)
        }
    }

    @Test("a body shorter than its fields is malformed, whatever the length prefix says", arguments: Fixtures.oneOfEachType)
    func shortBody(frame: PeerFrame) {
        let bytes = FrameEncoder.encode(frame)
        let short = Self.frame(frame.frameType.rawValue, Array(bytes[6..<(bytes.count - 1)]), version: bytes[4])
        #expect {
            try FrameDecoder.decode(short)
        } throws: { error in
            guard case .truncatedBody(let type, _, _, let needed, let available)? = error as? WireError else { return false }
            return type == frame.frameType && available < needed
        }
    }

    @Test("an accepting reply carries no message")
    func acceptingReplyWithMessage() {
        let bytes = Self.frame(0x02, [0, 1, 0x41])
        #expect(throws: WireError.invalidFieldLength(
            .handshakeReply, field: .messageLength, offset: 7, length: 1, allowed: 0...0)) {
            try FrameDecoder.decode(bytes)
        }
    }

    @Test("a reject message must be valid UTF-8")
    func invalidUTF8RejectMessage() {
        let bytes = Self.frame(0x02, [3, 2, 0xC3, 0x28])
        #expect(throws: WireError.invalidUTF8(.handshakeReply, field: .message, offset: 8)) {
            try FrameDecoder.decode(bytes)
        }
    }

    @Test("an unknown reject reason is kept by number")
    func unknownRejectReason() throws {
        let decoded = try FrameDecoder.decode(Self.frame(0x02, [0x42, 2, 0x68, 0x69]))
        let reason = try #require(RejectReason(rawValue: 0x42))
        #expect(decoded == .handshakeReply(.rejected(HandshakeRejection(reason: reason, message: "hi"))))
        #expect(reason.description == "reason 66")
        #expect(RejectReason(rawValue: 0) == nil)
    }

    // MARK: Version 2 (issue 15)

    @Test("a version-1 heartbeat_response cannot carry a candidacy, and a version-2 one must")
    func candidacyFollowsTheVersion() throws {
        let fields = Self.u64(4) + Self.u64(5) + Self.u64(6) + Self.u64(4)
        #expect(throws: WireError.trailingBytes(.heartbeatResponse, offset: 38, count: 3)) {
            try FrameDecoder.decode(Self.frame(0x15, fields + [0, 7, 1], version: 1))
        }
        #expect(throws: WireError.truncatedBody(.heartbeatResponse, field: .priority, offset: 38, needed: 2, available: 0)) {
            try FrameDecoder.decode(Self.frame(0x15, fields, version: 2))
        }
        let decoded = try FrameDecoder.decode(Self.frame(0x15, fields + [0, 7, 1], version: 2))
        guard case .message(.heartbeatResponse(let response)) = decoded else {
            Issue.record("decoded \(decoded)")
            return
        }
        #expect(response.candidacy == Candidacy(eligible: true, priority: 7))
        #expect(throws: WireError.invalidBool(.heartbeatResponse, field: .eligible, offset: 40, value: 2)) {
            try FrameDecoder.decode(Self.frame(0x15, fields + [0, 7, 2], version: 2))
        }
    }

    @Test("member_info is unknown in version 1 and checked in version 2")
    func memberInfoRules() throws {
        #expect(throws: WireError.unknownFrameType(0x40)) { try FrameDecoder.decode(Self.frame(0x40, [0], version: 1)) }
        #expect(try FrameDecoder.decode(Self.frame(0x40, [0], version: 2)) == .memberInfo(.none))
        let url = Array("http://a:1".utf8)
        #expect(try FrameDecoder.decode(Self.frame(0x40, [UInt8(url.count)] + url, version: 2))
            == .memberInfo(try MemberInfo(advertisedHTTP: "http://a:1")))
        // A space, a control character and a non-ASCII byte are all refused.
        for bad in [Array("http://a b".utf8), Array("http://a\n".utf8), Array("http://ä".utf8)] {
            #expect(throws: WireError.self) { try FrameDecoder.decode(Self.frame(0x40, [UInt8(bad.count)] + bad, version: 2)) }
        }
        #expect(throws: WireError.truncatedBody(.memberInfo, field: .advertisedHTTP, offset: 7, needed: 5, available: 2)) {
            try FrameDecoder.decode(Self.frame(0x40, [5, 0x68, 0x68], version: 2))
        }
        #expect(throws: WireError.invalidAdvertisedURL("is 256 bytes, more than 255")) {
            try MemberInfo(advertisedHTTP: String(repeating: "h", count: 256))
        }
    }

    @Test("handshakes and replies are frozen in version 1: in a version-2 frame they are refused as bad_version")
    func setupFramesStayVersion1() {
        #expect(throws: WireError.setupFrameVersion(.handshake, version: 2)) {
            try FrameDecoder.decode(Self.frame(0x01, Self.handshakeBody(maxVersion: 2), version: 2))
        }
        #expect(throws: WireError.setupFrameVersion(.handshakeReply, version: 2)) {
            try FrameDecoder.decode(Self.frame(0x02, [0, 0], version: 2))
        }
        #expect(WireError.setupFrameVersion(.handshake, version: 2).reason == .badVersion)
    }
}
