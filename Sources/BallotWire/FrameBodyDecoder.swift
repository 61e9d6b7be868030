import BallotCore

/// Decodes the body of one complete frame whose header has already been checked.
///
/// Every body must be consumed exactly: a missing byte is `truncatedBody`, a spare one
/// `trailingBytes`. Both are `malformed`, because a length prefix that disagrees with the content
/// means the two sides no longer agree on where frames start.
enum FrameBodyDecoder {
    static func decode(
        frame: UnsafeRawBufferPointer, type: FrameType, version: UInt8
    ) throws(WireError) -> PeerFrame {
        var reader = WireReader(frame: frame, type: type)
        if type.isConnectionSetup && version != WireVersion.setup {
            throw .setupFrameVersion(type, version: version)
        }
        let decoded: PeerFrame
        switch type {
        case .handshake: decoded = .handshake(try handshake(&reader, frameVersion: version))
        case .handshakeReply: decoded = .handshakeReply(try handshakeReply(&reader))
        case .authProof: decoded = .authProof(AuthProof(checked: Array(try reader.readBytes(AuthProof.byteCount, .proof))))
        case .preVoteRequest: decoded = .message(.preVoteRequest(try voteRequest(&reader)))
        case .preVoteResponse: decoded = .message(.preVoteResponse(try voteResponse(&reader)))
        case .voteRequest: decoded = .message(.voteRequest(try voteRequest(&reader)))
        case .voteResponse: decoded = .message(.voteResponse(try voteResponse(&reader)))
        case .heartbeat: decoded = .message(.heartbeat(try heartbeat(&reader)))
        case .heartbeatResponse:
            decoded = .message(.heartbeatResponse(try heartbeatResponse(&reader, version: version)))
        case .timeoutNow: decoded = .message(.timeoutNow(TimeoutNow(term: try reader.readTerm(.term))))
        case .leaseReleased: decoded = .message(.leaseReleased(LeaseReleased(term: try reader.readTerm(.term))))
        case .bullyElection: decoded = .message(.bullyElection(BullyElection(epoch: try reader.readTerm(.epoch))))
        case .bullyAnswer: decoded = .message(.bullyAnswer(BullyAnswer(epoch: try reader.readTerm(.epoch))))
        case .bullyCoordinator:
            decoded = .message(.bullyCoordinator(BullyCoordinator(epoch: try reader.readTerm(.epoch))))
        case .bullyHeartbeat: decoded = .message(.bullyHeartbeat(BullyHeartbeat(epoch: try reader.readTerm(.epoch))))
        case .ringElection: decoded = .message(.ringElection(try ringElection(&reader)))
        case .ringElected: decoded = .message(.ringElected(try ringElected(&reader)))
        case .ringAck: decoded = .message(.ringAck(try ringAck(&reader)))
        case .ringHeartbeat: decoded = .message(.ringHeartbeat(RingHeartbeat(epoch: try reader.readTerm(.epoch))))
        case .memberInfo: decoded = .memberInfo(try memberInfo(&reader))
        }
        try reader.finish()
        return decoded
    }

    private static func handshake(_ reader: inout WireReader, frameVersion: UInt8) throws(WireError) -> Handshake {
        let magicOffset = reader.offset
        let magic = try reader.readBytes(Handshake.magic.count, .magic)
        guard magic.elementsEqual(Handshake.magic) else {
            throw .badMagic(offset: magicOffset, found: Array(magic))
        }

        let versionOffset = reader.offset
        let maxVersion = try reader.readUInt8(.maxVersion)
        guard maxVersion >= frameVersion else {
            throw .advertisedVersionTooLow(offset: versionOffset, advertised: maxVersion, frameVersion: frameVersion)
        }

        let algorithmOffset = reader.offset
        let code = try reader.readUInt8(.algorithm)
        guard let algorithm = ElectionAlgorithmKind(wireCode: code) else {
            throw .unknownAlgorithm(offset: algorithmOffset, code: code)
        }

        let nodeID = try reader.readNodeID(.nodeID)

        let nameLengthOffset = reader.offset
        let nameLength = Int(try reader.readUInt8(.clusterNameLength))
        guard nameLength > 0 else {
            throw .invalidFieldLength(
                .handshake, field: .clusterNameLength, offset: nameLengthOffset, length: 0,
                allowed: 1...ClusterName.maximumLength)
        }
        let nameText = try reader.readUTF8(nameLength, .clusterName)
        let name: ClusterName
        do throws(ClusterNameProblem) {
            name = try ClusterName(nameText)
        } catch {
            throw .invalidClusterName(error)
        }

        let method = AuthMethod(rawValue: try reader.readUInt8(.authMethod))
        let payloadLengthOffset = reader.offset
        let payloadLength = Int(try reader.readUInt16(.authPayloadLength))
        let allowed = method == .none ? 0...0 : 0...HandshakeAuth.maximumPayloadByteCount
        guard allowed.contains(payloadLength) else {
            throw .invalidFieldLength(
                .handshake, field: .authPayloadLength, offset: payloadLengthOffset, length: payloadLength,
                allowed: allowed)
        }
        let payload = Array(try reader.readBytes(payloadLength, .authPayload))

        return Handshake(
            maxVersion: maxVersion, nodeID: nodeID, clusterName: name, algorithm: algorithm,
            auth: HandshakeAuth(checkedMethod: method, payload: payload))
    }

    private static func handshakeReply(_ reader: inout WireReader) throws(WireError) -> HandshakeReply {
        let status = try reader.readUInt8(.status)
        let lengthOffset = reader.offset
        let length = Int(try reader.readUInt8(.messageLength))
        guard let reason = RejectReason(rawValue: status) else {
            // Status 0 accepts; an accepting reply carries no message, so each reply has one encoding.
            guard length == 0 else {
                throw .invalidFieldLength(
                    .handshakeReply, field: .messageLength, offset: lengthOffset, length: length, allowed: 0...0)
            }
            return .accepted
        }
        let message = try reader.readUTF8(length, .message)
        return .rejected(HandshakeRejection(reason: reason, message: message))
    }

    private static func voteRequest(_ reader: inout WireReader) throws(WireError) -> VoteRequest {
        let term = try reader.readTerm(.term)
        let lastLog = try reader.readLogPosition(index: .lastLogIndex, term: .lastLogTerm)
        return VoteRequest(term: term, lastLog: lastLog, isTransfer: try reader.readBool(.isTransfer))
    }

    private static func voteResponse(_ reader: inout WireReader) throws(WireError) -> VoteResponse {
        let term = try reader.readTerm(.term)
        return VoteResponse(term: term, granted: try reader.readBool(.granted))
    }

    private static func heartbeat(_ reader: inout WireReader) throws(WireError) -> Heartbeat {
        let term = try reader.readTerm(.term)
        let sequence = try reader.readUInt64(.sequence)
        let leaderLog = try reader.readLogPosition(index: .leaderLogIndex, term: .leaderLogTerm)
        let target = try reader.readOptionalNodeID(.transferTarget)
        return Heartbeat(term: term, sequence: sequence, leaderLog: leaderLog, transferTarget: target)
    }

    private static func heartbeatResponse(_ reader: inout WireReader, version: UInt8) throws(WireError) -> HeartbeatResponse {
        let term = try reader.readTerm(.term)
        let sequence = try reader.readUInt64(.sequence)
        let lastLog = try reader.readLogPosition(index: .lastLogIndex, term: .lastLogTerm)
        guard version >= 2 else { return HeartbeatResponse(term: term, sequence: sequence, lastLog: lastLog) }
        let priority = try reader.readUInt16(.priority)
        let candidacy = Candidacy(eligible: try reader.readBool(.eligible), priority: priority)
        return HeartbeatResponse(term: term, sequence: sequence, lastLog: lastLog, candidacy: candidacy)
    }

    private static func memberInfo(_ reader: inout WireReader) throws(WireError) -> MemberInfo {
        let length = Int(try reader.readUInt8(.advertisedHTTPLength))
        guard length > 0 else { return MemberInfo(checked: nil) }
        let url = String(decoding: try reader.readBytes(length, .advertisedHTTP), as: UTF8.self)
        guard MemberInfo.isValidURL(url) else { throw .invalidAdvertisedURL("must be printable ASCII without spaces") }
        return MemberInfo(checked: url)
    }

    private static func ringElection(_ reader: inout WireReader) throws(WireError) -> RingElection {
        let epoch = try reader.readTerm(.epoch)
        let candidate = try reader.readNodeID(.candidate)
        return RingElection(epoch: epoch, candidate: candidate, sequence: try reader.readUInt64(.sequence))
    }

    private static func ringElected(_ reader: inout WireReader) throws(WireError) -> RingElected {
        let epoch = try reader.readTerm(.epoch)
        let coordinator = try reader.readNodeID(.coordinator)
        return RingElected(epoch: epoch, coordinator: coordinator, sequence: try reader.readUInt64(.sequence))
    }

    private static func ringAck(_ reader: inout WireReader) throws(WireError) -> RingAck {
        let epoch = try reader.readTerm(.epoch)
        return RingAck(epoch: epoch, sequence: try reader.readUInt64(.sequence))
    }
}
