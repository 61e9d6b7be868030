import BallotCore

/// Turns ``PeerFrame`` values into bytes, sized exactly in advance: one allocation per frame
/// for ``encode(_:version:)``, none at all for ``encode(_:into:version:)`` into memory the caller owns.
///
/// `version` is the connection's negotiated version (``WireVersion/negotiated(local:remote:)``);
/// connection-opening frames are written in version 1 whatever it is.
public enum FrameEncoder {
    /// Body lengths of the fixed-size message frames.
    static let voteRequestBodyLength = 8 + 8 + 8 + 1
    static let voteResponseBodyLength = 8 + 1
    static let heartbeatBodyLength = 8 + 8 + 8 + 8 + 8
    static let heartbeatResponseBodyLength = 8 + 8 + 8 + 8
    /// Version 2 adds the follower's candidacy: priority (u16) and eligible (bool).
    static let candidacyLength = 2 + 1
    static let timeoutNowBodyLength = 8
    /// Every Bully message and the Ring heartbeat carry only an epoch.
    static let epochOnlyBodyLength = 8
    static let ringTokenBodyLength = 8 + 8 + 8
    static let ringAckBodyLength = 8 + 8

    /// The number of bytes `frame` occupies on the wire in `version`, length prefix included.
    public static func encodedByteCount(of frame: PeerFrame, version: UInt8 = WireVersion.current) -> Int {
        FrameLayout.headerLength + bodyLength(of: frame, version: headerVersion(of: frame, version))
    }

    /// `frame` as a new array of exactly ``encodedByteCount(of:version:)`` bytes.
    public static func encode(_ frame: PeerFrame, version: UInt8 = WireVersion.current) -> [UInt8] {
        let count = encodedByteCount(of: frame, version: version)
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = encode(frame, into: UnsafeMutableRawBufferPointer(buffer), version: version)
        }
    }

    /// Appends `frame` to `bytes`, growing it once.
    public static func encode(_ frame: PeerFrame, appendingTo bytes: inout [UInt8], version: UInt8 = WireVersion.current) {
        let start = bytes.count
        let count = encodedByteCount(of: frame, version: version)
        bytes.append(contentsOf: repeatElement(0, count: count))
        bytes.withUnsafeMutableBytes { raw in
            _ = encode(frame, into: UnsafeMutableRawBufferPointer(rebasing: raw[start..<(start + count)]), version: version)
        }
    }

    /// Writes `frame` at the start of `buffer` and returns the number of bytes written.
    ///
    /// - Precondition: `buffer` holds at least ``encodedByteCount(of:version:)`` bytes, `version`
    ///   is supported, and the frame type exists in it.
    @discardableResult
    public static func encode(
        _ frame: PeerFrame, into buffer: UnsafeMutableRawBufferPointer, version: UInt8 = WireVersion.current
    ) -> Int {
        let version = headerVersion(of: frame, version)
        precondition(WireVersion.supported.contains(version), "protocol version \(version) is not supported")
        precondition(frame.frameType.introducedIn <= version, "\(frame.frameType) does not exist in version \(version)")
        let body = bodyLength(of: frame, version: version)
        let count = FrameLayout.headerLength + body
        precondition(buffer.count >= count, "buffer of \(buffer.count) bytes cannot hold a \(count)-byte frame")
        var writer = WireWriter(into: buffer)
        writer.write(UInt32(FrameLayout.minimumLength + body))
        writer.write(version)
        writer.write(frame.frameType.rawValue)
        switch frame {
        case .handshake(let handshake): writeBody(of: handshake, to: &writer)
        case .handshakeReply(let reply): writeBody(of: reply, to: &writer)
        case .authProof(let proof): writer.write(contentsOf: proof.bytes)
        case .message(let message): writeBody(of: message, version: version, to: &writer)
        case .memberInfo(let info): writeBody(of: info, to: &writer)
        }
        assert(writer.offset == count, "\(frame.frameType) body length mismatch")
        return count
    }

    /// The version byte `frame` is written with on a connection speaking `version`.
    static func headerVersion(of frame: PeerFrame, _ version: UInt8) -> UInt8 {
        frame.frameType.isConnectionSetup ? WireVersion.setup : version
    }

    static func bodyLength(of frame: PeerFrame, version: UInt8) -> Int {
        switch frame {
        case .handshake(let handshake): handshake.bodyLength
        case .handshakeReply(.accepted): 2
        case .handshakeReply(.rejected(let rejection)): 2 + rejection.message.utf8.count
        case .authProof: AuthProof.byteCount
        case .message(let message):
            switch message {
            case .preVoteRequest, .voteRequest: voteRequestBodyLength
            case .preVoteResponse, .voteResponse: voteResponseBodyLength
            case .heartbeat: heartbeatBodyLength
            case .heartbeatResponse: heartbeatResponseBodyLength + (version >= 2 ? candidacyLength : 0)
            case .timeoutNow, .leaseReleased: timeoutNowBodyLength
            case .bullyElection, .bullyAnswer, .bullyCoordinator, .bullyHeartbeat, .ringHeartbeat:
                epochOnlyBodyLength
            case .ringElection, .ringElected: ringTokenBodyLength
            case .ringAck: ringAckBodyLength
            }
        case .memberInfo(let info): info.bodyLength
        }
    }

    private static func writeBody(of handshake: Handshake, to writer: inout WireWriter) {
        writer.write(contentsOf: Handshake.magic)
        writer.write(handshake.maxVersion)
        writer.write(handshake.algorithm.wireCode)
        writer.write(handshake.nodeID)
        writer.write(UInt8(handshake.clusterName.byteCount))
        writer.write(contentsOf: handshake.clusterName.rawValue.utf8)
        writer.write(handshake.auth.method.rawValue)
        writer.write(UInt16(handshake.auth.payload.count))
        writer.write(contentsOf: handshake.auth.payload)
    }

    private static func writeBody(of reply: HandshakeReply, to writer: inout WireWriter) {
        switch reply {
        case .accepted:
            writer.write(0 as UInt8)
            writer.write(0 as UInt8)
        case .rejected(let rejection):
            writer.write(rejection.reason.rawValue)
            writer.write(UInt8(rejection.message.utf8.count))
            writer.write(contentsOf: rejection.message.utf8)
        }
    }

    private static func writeBody(of info: MemberInfo, to writer: inout WireWriter) {
        let url = Array((info.advertisedHTTP ?? "").utf8)
        writer.write(UInt8(url.count))
        writer.write(contentsOf: url)
    }

    private static func writeBody(of message: Message, version: UInt8, to writer: inout WireWriter) {
        switch message {
        case .preVoteRequest(let request), .voteRequest(let request):
            writer.write(request.term)
            writer.write(request.lastLog)
            writer.write(request.isTransfer)
        case .preVoteResponse(let response), .voteResponse(let response):
            writer.write(response.term)
            writer.write(response.granted)
        case .heartbeat(let heartbeat):
            writer.write(heartbeat.term)
            writer.write(heartbeat.sequence)
            writer.write(heartbeat.leaderLog)
            writer.write(heartbeat.transferTarget)
        case .heartbeatResponse(let response):
            writer.write(response.term)
            writer.write(response.sequence)
            writer.write(response.lastLog)
            if version >= 2 {
                writer.write(response.candidacy.priority)
                writer.write(response.candidacy.eligible)
            }
        case .timeoutNow(let timeoutNow):
            writer.write(timeoutNow.term)
        case .leaseReleased(let released):
            writer.write(released.term)
        case .bullyElection(let election):
            writer.write(election.epoch)
        case .bullyAnswer(let answer):
            writer.write(answer.epoch)
        case .bullyCoordinator(let announcement):
            writer.write(announcement.epoch)
        case .bullyHeartbeat(let heartbeat):
            writer.write(heartbeat.epoch)
        case .ringElection(let token):
            writer.write(token.epoch)
            writer.write(token.candidate)
            writer.write(token.sequence)
        case .ringElected(let token):
            writer.write(token.epoch)
            writer.write(token.coordinator)
            writer.write(token.sequence)
        case .ringAck(let ack):
            writer.write(ack.epoch)
            writer.write(ack.sequence)
        case .ringHeartbeat(let heartbeat):
            writer.write(heartbeat.epoch)
        }
    }
}
