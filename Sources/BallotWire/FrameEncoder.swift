import BallotCore

/// Turns ``PeerFrame`` values into bytes, sized exactly in advance: one allocation per frame
/// for ``encode(_:)``, none at all for ``encode(_:into:)`` into memory the caller owns.
public enum FrameEncoder {
    /// Body lengths of the fixed-size message frames.
    static let voteRequestBodyLength = 8 + 8 + 8 + 1
    static let voteResponseBodyLength = 8 + 1
    static let heartbeatBodyLength = 8 + 8 + 8 + 8 + 8
    static let heartbeatResponseBodyLength = 8 + 8 + 8 + 8
    static let timeoutNowBodyLength = 8
    /// Every Bully message and the Ring heartbeat carry only an epoch.
    static let epochOnlyBodyLength = 8
    static let ringTokenBodyLength = 8 + 8 + 8
    static let ringAckBodyLength = 8 + 8

    /// The number of bytes `frame` occupies on the wire, length prefix included.
    public static func encodedByteCount(of frame: PeerFrame) -> Int {
        FrameLayout.headerLength + bodyLength(of: frame)
    }

    /// `frame` as a new array of exactly ``encodedByteCount(of:)`` bytes.
    public static func encode(_ frame: PeerFrame) -> [UInt8] {
        let count = encodedByteCount(of: frame)
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = encode(frame, into: UnsafeMutableRawBufferPointer(buffer))
        }
    }

    /// Appends `frame` to `bytes`, growing it once.
    public static func encode(_ frame: PeerFrame, appendingTo bytes: inout [UInt8]) {
        let start = bytes.count
        let count = encodedByteCount(of: frame)
        bytes.append(contentsOf: repeatElement(0, count: count))
        bytes.withUnsafeMutableBytes { raw in
            _ = encode(frame, into: UnsafeMutableRawBufferPointer(rebasing: raw[start..<(start + count)]))
        }
    }

    /// Writes `frame` at the start of `buffer` and returns the number of bytes written.
    ///
    /// - Precondition: `buffer` holds at least ``encodedByteCount(of:)`` bytes.
    @discardableResult
    public static func encode(_ frame: PeerFrame, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let body = bodyLength(of: frame)
        let count = FrameLayout.headerLength + body
        precondition(buffer.count >= count, "buffer of \(buffer.count) bytes cannot hold a \(count)-byte frame")
        var writer = WireWriter(into: buffer)
        writer.write(UInt32(FrameLayout.minimumLength + body))
        writer.write(WireVersion.current)
        writer.write(frame.frameType.rawValue)
        switch frame {
        case .handshake(let handshake): writeBody(of: handshake, to: &writer)
        case .handshakeReply(let reply): writeBody(of: reply, to: &writer)
        case .authProof(let proof): writer.write(contentsOf: proof.bytes)
        case .message(let message): writeBody(of: message, to: &writer)
        }
        assert(writer.offset == count, "\(frame.frameType) body length mismatch")
        return count
    }

    static func bodyLength(of frame: PeerFrame) -> Int {
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
            case .heartbeatResponse: heartbeatResponseBodyLength
            case .timeoutNow: timeoutNowBodyLength
            case .bullyElection, .bullyAnswer, .bullyCoordinator, .bullyHeartbeat, .ringHeartbeat:
                epochOnlyBodyLength
            case .ringElection, .ringElected: ringTokenBodyLength
            case .ringAck: ringAckBodyLength
            }
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

    private static func writeBody(of message: Message, to writer: inout WireWriter) {
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
        case .timeoutNow(let timeoutNow):
            writer.write(timeoutNow.term)
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
