import BallotCore
import BallotServer
import BallotWire
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@Suite("NIO frame codec handlers")
struct FrameCodecHandlersTests {
    static let log = LogPosition(index: 3, term: 5)
    static let frames: [PeerFrame] = [
        .handshake(Handshake(nodeID: 1, clusterName: name("prod"), algorithm: .raft)),
        .handshake(Handshake(
            nodeID: NodeID(UInt64.max)!, clusterName: name(String(repeating: "z", count: 255)), algorithm: .ring)),
        .handshakeReply(.accepted),
        .handshakeReply(.rejected(HandshakeRejection(reason: .unknownNode, message: "node 9 is not a member"))),
        .message(.preVoteRequest(VoteRequest(term: 0, lastLog: .empty))),
        .message(.voteRequest(VoteRequest(term: Term(UInt64.max), lastLog: log, isTransfer: true))),
        .message(.preVoteResponse(VoteResponse(term: 7, granted: false))),
        .message(.voteResponse(VoteResponse(term: 7, granted: true))),
        .message(.heartbeat(Heartbeat(term: 5, sequence: 42, leaderLog: log))),
        .message(.heartbeat(Heartbeat(term: 5, sequence: .max, leaderLog: log, transferTarget: 2))),
        .message(.heartbeatResponse(HeartbeatResponse(term: 5, sequence: 42, lastLog: log))),
        .message(.timeoutNow(TimeoutNow(term: 6))),
    ]

    static func name(_ value: String) -> ClusterName {
        do { return try ClusterName(value) } catch { fatalError("fixture cluster name: \(error)") }
    }

    static func buffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

    @Test("the decoder passes ByteToMessageDecoderVerifier: single, drip-fed and batched")
    func verifier() throws {
        var pairs = Self.frames.map { (Self.buffer(FrameEncoder.encode($0)), [$0]) }
        // Several frames in one read come out as several messages.
        pairs.append((Self.buffer(Self.frames.flatMap { FrameEncoder.encode($0) }), Self.frames))
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { PeerFrameDecoder() }
    }

    @Test("an oversized length prefix fails the channel with a WireError from 4 bytes alone")
    func oversized() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(PeerFrameDecoder()))
        #expect(throws: WireError.frameTooLarge(declaredLength: 0xFFFF_FFFF, limit: 65_536)) {
            try channel.writeInbound(Self.buffer([0xFF, 0xFF, 0xFF, 0xFF]))
        }
        // The handler now refuses further input instead of resynchronising on garbage.
        #expect(throws: ByteToMessageDecoderError.self) {
            try channel.writeInbound(Self.buffer(FrameEncoder.encode(Self.frames[2])))
        }
        #expect(try channel.readInbound(as: PeerFrame.self) == nil)
        _ = try? channel.finish()
    }

    @Test("a configured limit is honoured")
    func configuredLimit() throws {
        let limits = try WireLimits(maxFrameLength: WireLimits.minimumMaxFrameLength)
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(PeerFrameDecoder(limits: limits)))
        let declared = UInt32(WireLimits.minimumMaxFrameLength + 1)
        var header = ByteBuffer()
        header.writeInteger(declared)
        #expect(throws: WireError.frameTooLarge(declaredLength: declared, limit: limits.maxFrameLength)) {
            try channel.writeInbound(header)
        }
        _ = try? channel.finish()
    }

    @Test("a malformed body fails the channel with the decoder's typed error")
    func malformedBody() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(PeerFrameDecoder()))
        var bytes = FrameEncoder.encode(.message(.voteResponse(VoteResponse(term: 1, granted: true))))
        bytes[14] = 2
        #expect(throws: WireError.invalidBool(.voteResponse, field: .granted, offset: 14, value: 2)) {
            try channel.writeInbound(Self.buffer(bytes))
        }
        _ = try? channel.finish()
    }

    @Test("a stream that ends inside a frame reports leftover data, not a protocol error")
    func partialFrameAtEOF() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(PeerFrameDecoder()))
        let whole = FrameEncoder.encode(Self.frames[8])
        try channel.writeInbound(Self.buffer(whole + whole.prefix(10)))
        #expect(try channel.readInbound(as: PeerFrame.self) == Self.frames[8])
        #expect {
            try channel.finish()
        } throws: { error in
            guard case .leftoverDataWhenDone(let leftover)? = error as? ByteToMessageDecoderError else { return false }
            return leftover.readableBytes == 10
        }
    }

    @Test("the encoder writes exactly FrameEncoder's bytes")
    func encoder() throws {
        let channel = EmbeddedChannel(handler: MessageToByteHandler(PeerFrameEncoder()))
        for frame in Self.frames {
            for version in WireVersion.supported where frame.frameType.introducedIn <= version {
                try channel.writeOutbound(OutboundFrame(frame, version: version))
                let written = try #require(try channel.readOutbound(as: ByteBuffer.self))
                #expect(Array(written.readableBytesView) == FrameEncoder.encode(frame, version: version))
            }
        }
        #expect(try channel.finish().isClean)
    }

    @Test("frames written through the encoder come back through the decoder")
    func roundTripThroughPipeline() throws {
        let sender = EmbeddedChannel(handler: MessageToByteHandler(PeerFrameEncoder()))
        let receiver = EmbeddedChannel(handler: ByteToMessageHandler(PeerFrameDecoder()))
        for frame in Self.frames { try sender.writeOutbound(OutboundFrame(frame, version: WireVersion.current)) }
        var received: [PeerFrame] = []
        while let bytes = try sender.readOutbound(as: ByteBuffer.self) {
            try receiver.writeInbound(bytes)
            while let frame = try receiver.readInbound(as: PeerFrame.self) { received.append(frame) }
        }
        #expect(received == Self.frames)
        #expect(try sender.finish().isClean)
        #expect(try receiver.finish().isClean)
    }
}
