import BallotCore
import BallotWire
import Testing

@Suite("Round trips")
struct RoundTripTests {
    @Test("every message round-trips with edge values", arguments: Fixtures.messages)
    func messageRoundTrips(message: Message) throws {
        let bytes = FrameEncoder.encode(.message(message))
        #expect(try FrameDecoder.decode(bytes) == .message(message))
    }

    @Test("in version 1 every message round-trips, a follower's candidacy left out", arguments: Fixtures.messages)
    func messageRoundTripsInVersion1(message: Message) throws {
        guard FrameType(for: message).introducedIn == 1 else { return }  // Never sent in version 1.
        var expected = message
        if case .heartbeatResponse(var response) = message {
            response.candidacy = .default
            expected = .heartbeatResponse(response)
        }
        let bytes = FrameEncoder.encode(.message(message), version: 1)
        #expect(bytes[4] == 1)
        #expect(try FrameDecoder.decode(bytes) == .message(expected))
    }

    @Test("lease_released exists from version 3: older versions refuse its code as unknown")
    func leaseReleasedIsAVersion3Frame() throws {
        let bytes = FrameEncoder.encode(.message(.leaseReleased(LeaseReleased(term: 7))), version: 3)
        #expect(Array(bytes) == [0, 0, 0, 10, 3, 0x17, 0, 0, 0, 0, 0, 0, 0, 7])
        #expect(try FrameDecoder.decode(bytes) == .message(.leaseReleased(LeaseReleased(term: 7))))
        for older in [1, 2] as [UInt8] {
            var downgraded = bytes
            downgraded[4] = older
            #expect(throws: WireError.unknownFrameType(0x17)) { try FrameDecoder.decode(downgraded) }
        }
    }

    @Test("member information round-trips in version 2", arguments: [nil, "http://10.0.0.1:9101", "https://" + String(repeating: "h", count: 247)])
    func memberInfoRoundTrips(url: String?) throws {
        let frame = PeerFrame.memberInfo(try MemberInfo(advertisedHTTP: url))
        let bytes = FrameEncoder.encode(frame)
        #expect(bytes.count == 6 + 1 + (url?.utf8.count ?? 0))
        #expect(try FrameDecoder.decode(bytes) == frame)
    }

    @Test("every handshake round-trips", arguments: Fixtures.handshakes)
    func handshakeRoundTrips(handshake: Handshake) throws {
        let bytes = FrameEncoder.encode(.handshake(handshake))
        #expect(try FrameDecoder.decode(bytes) == .handshake(handshake))
    }

    @Test("every handshake reply round-trips", arguments: Fixtures.replies)
    func replyRoundTrips(reply: HandshakeReply) throws {
        let bytes = FrameEncoder.encode(.handshakeReply(reply))
        #expect(try FrameDecoder.decode(bytes) == .handshakeReply(reply))
    }

    @Test("the header carries the length after the prefix, the version and the frame's type", arguments: Fixtures.frames)
    func headerIsConsistent(frame: PeerFrame) {
        for version in WireVersion.supported where frame.frameType.introducedIn <= version {
            let bytes = FrameEncoder.encode(frame, version: version)
            #expect(bytes.count == FrameEncoder.encodedByteCount(of: frame, version: version))
            let length = bytes[0..<4].reduce(0) { $0 << 8 | Int($1) }
            #expect(length == bytes.count - 4)
            // Connection-opening frames are frozen in version 1 (docs/protocol.md §9).
            #expect(bytes[4] == (frame.frameType.isConnectionSetup ? 1 : version))
            #expect(bytes[5] == frame.frameType.rawValue)
        }
    }

    @Test("message frames have their documented sizes")
    func fixedSizes() {
        let log = LogPosition(index: 1, term: 1)
        let sizes: [(Message, Int)] = [
            (.preVoteRequest(VoteRequest(term: 1, lastLog: log)), 6 + 25),
            (.voteRequest(VoteRequest(term: 1, lastLog: log)), 6 + 25),
            (.preVoteResponse(VoteResponse(term: 1, granted: true)), 6 + 9),
            (.voteResponse(VoteResponse(term: 1, granted: true)), 6 + 9),
            (.heartbeat(Heartbeat(term: 1, sequence: 1, leaderLog: log)), 6 + 40),
            (.heartbeatResponse(HeartbeatResponse(term: 1, sequence: 1, lastLog: log)), 6 + 32),
            (.timeoutNow(TimeoutNow(term: 1)), 6 + 8),
            (.bullyElection(BullyElection(epoch: 1)), 6 + 8),
            (.bullyAnswer(BullyAnswer(epoch: 1)), 6 + 8),
            (.bullyCoordinator(BullyCoordinator(epoch: 1)), 6 + 8),
            (.bullyHeartbeat(BullyHeartbeat(epoch: 1)), 6 + 8),
            (.ringElection(RingElection(epoch: 1, candidate: 2, sequence: 3)), 6 + 24),
            (.ringElected(RingElected(epoch: 1, coordinator: 2, sequence: 3)), 6 + 24),
            (.ringAck(RingAck(epoch: 1, sequence: 3)), 6 + 16),
            (.ringHeartbeat(RingHeartbeat(epoch: 1)), 6 + 8),
        ]
        // Version 3's one message.
        #expect(FrameEncoder.encode(.message(.leaseReleased(LeaseReleased(term: 1))), version: 3).count == 6 + 8)
        for (message, size) in sizes {
            #expect(FrameEncoder.encode(.message(message), version: 1).count == size, "\(message.kind)")
            // Version 2 adds the candidacy (priority u16, eligible bool) to heartbeat_response only.
            let extra = message.kind == .heartbeatResponse ? 3 : 0
            #expect(FrameEncoder.encode(.message(message), version: 2).count == size + extra, "\(message.kind)")
        }
    }

    @Test("a version-2 heartbeat_response carries the candidacy after the version-1 fields")
    func candidacyLayout() {
        let response = HeartbeatResponse(term: 1, sequence: 2, lastLog: LogPosition(index: 3, term: 1),
                                          candidacy: Candidacy(eligible: false, priority: 0x0102))
        let version2 = FrameEncoder.encode(.message(.heartbeatResponse(response)), version: 2)
        let version1 = FrameEncoder.encode(.message(.heartbeatResponse(response)), version: 1)
        #expect(Array(version2[6..<38]) == Array(version1[6..<38]))
        #expect(Array(version2[38...]) == [0x01, 0x02, 0x00])
    }

    @Test("each message kind has its own type code, in its algorithm's range and named like the kind")
    func typeCodesAreDistinct() {
        let kinds = MessageKind.allCases.compactMap { kind in Fixtures.messages.first { $0.kind == kind } }
        #expect(kinds.count == MessageKind.allCases.count, "a fixture for every kind")
        let codes = kinds.map { FrameType(for: $0).rawValue }
        #expect(Set(codes).count == codes.count)
        for message in kinds {
            let type = FrameType(for: message)
            #expect(type.description == message.kind.rawValue)
            #expect(!FrameType.reservedRaft.contains(type.rawValue) && !FrameType.reservedControl.contains(type.rawValue))
            switch message.algorithm {
            case .raft: #expect((0x10...0x17).contains(type.rawValue))
            case .bully: #expect(FrameType.reservedBully.contains(type.rawValue))
            case .ring: #expect(FrameType.reservedRing.contains(type.rawValue))
            }
        }
        #expect(FrameType(for: .bullyElection(BullyElection(epoch: 1))).rawValue == 0x20)
        #expect(FrameType(for: .ringElection(RingElection(epoch: 1, candidate: 1, sequence: 1))).rawValue == 0x30)
    }

    @Test("Bully and Ring bodies are laid out as documented, big-endian")
    func bullyAndRingLayouts() {
        let coordinator = FrameEncoder.encode(.message(.bullyCoordinator(BullyCoordinator(epoch: Term(0x0102)))), version: 1)
        #expect(coordinator == [0, 0, 0, 10, 1, 0x22, 0, 0, 0, 0, 0, 0, 0x01, 0x02])
        let token = FrameEncoder.encode(
            .message(.ringElected(RingElected(epoch: 7, coordinator: 0x0A0B, sequence: 0x0C))), version: 1)
        #expect(token == [0, 0, 0, 26, 1, 0x31] + [0, 0, 0, 0, 0, 0, 0, 7] + [0, 0, 0, 0, 0, 0, 0x0A, 0x0B]
            + [0, 0, 0, 0, 0, 0, 0, 0x0C])
        let ack = FrameEncoder.encode(.message(.ringAck(RingAck(epoch: 7, sequence: UInt64.max))), version: 1)
        #expect(ack == [0, 0, 0, 18, 1, 0x32] + [0, 0, 0, 0, 0, 0, 0, 7] + [UInt8](repeating: 0xFF, count: 8))
        // Version 2 changes only the version byte of these bodies.
        let ack2 = FrameEncoder.encode(.message(.ringAck(RingAck(epoch: 7, sequence: UInt64.max))), version: 2)
        #expect(ack2 == [0, 0, 0, 18, 2, 0x32] + Array(ack[6...]))
    }

    @Test("integers are big-endian and an absent transfer target is written as node 0")
    func byteOrderAndOptionalNode() {
        let heartbeat = Heartbeat(
            term: Term(0x0102_0304_0506_0708), sequence: 0x1112_1314_1516_1718,
            leaderLog: LogPosition(index: 0x2122_2324_2526_2728, term: Term(0x3132_3334_3536_3738)))
        let bytes = FrameEncoder.encode(.message(.heartbeat(heartbeat)))
        #expect(Array(bytes[6..<14]) == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(Array(bytes[14..<22]) == [0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18])
        #expect(Array(bytes[22..<30]) == [0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28])
        #expect(Array(bytes[30..<38]) == [0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38])
        #expect(Array(bytes[38..<46]) == [0, 0, 0, 0, 0, 0, 0, 0])

        var withTarget = heartbeat
        withTarget.transferTarget = NodeID(0x4142)
        let targeted = FrameEncoder.encode(.message(.heartbeat(withTarget)))
        #expect(Array(targeted[38..<46]) == [0, 0, 0, 0, 0, 0, 0x41, 0x42])
    }

    @Test("encoding into a buffer or appending gives the same bytes as encode(_:)")
    func encodingEntryPointsAgree() {
        var stream: [UInt8] = [0xAA]
        var expected: [UInt8] = [0xAA]
        for frame in Fixtures.frames {
            FrameEncoder.encode(frame, appendingTo: &stream)
            let bytes = FrameEncoder.encode(frame)
            expected += bytes
            var scratch = [UInt8](repeating: 0xEE, count: bytes.count + 3)
            let written = scratch.withUnsafeMutableBytes { FrameEncoder.encode(frame, into: $0) }
            #expect(written == bytes.count)
            #expect(Array(scratch[..<written]) == bytes)
            #expect(scratch[written...].allSatisfy { $0 == 0xEE })
        }
        #expect(stream == expected)
    }

    @Test("a reject message longer than 255 bytes is cut between scalars and stays valid UTF-8")
    func longRejectMessageIsTruncated() throws {
        let rejection = HandshakeRejection(reason: .auth, message: String(repeating: "a", count: 254) + "€xyz")
        #expect(rejection.message == String(repeating: "a", count: 254))
        let ascii = HandshakeRejection(reason: .auth, message: String(repeating: "b", count: 300))
        #expect(ascii.message.utf8.count == 255)
        let bytes = FrameEncoder.encode(.handshakeReply(.rejected(ascii)))
        #expect(bytes.count == 6 + 2 + 255)
        #expect(try FrameDecoder.decode(bytes) == .handshakeReply(.rejected(ascii)))
    }

    @Test("the largest possible handshake fits the smallest permitted frame limit")
    func largestHandshakeFitsMinimumLimit() throws {
        let largest = Handshake(
            nodeID: 1, clusterName: Fixtures.clusterName(String(repeating: "x", count: 255)), algorithm: .raft,
            auth: Fixtures.auth(9, payload: [UInt8](repeating: 1, count: HandshakeAuth.maximumPayloadByteCount)))
        let bytes = FrameEncoder.encode(.handshake(largest))
        #expect(bytes.count - 4 == WireLimits.minimumMaxFrameLength)
        // The numbers docs/protocol.md §5.1 and §7 state.
        #expect(Handshake.maximumBodyLength == 4369)
        #expect(WireLimits.minimumMaxFrameLength == 4371)
        let limits = try WireLimits(maxFrameLength: WireLimits.minimumMaxFrameLength)
        #expect(try FrameDecoder.decode(bytes, limits: limits) == .handshake(largest))
    }
}
