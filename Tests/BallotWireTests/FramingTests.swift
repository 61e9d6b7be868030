import BallotCore
@testable import BallotWire
import Testing

@Suite("Framing and streaming")
struct FramingTests {
    @Test("a frame cut at any byte asks for more bytes, then decodes once complete", arguments: Fixtures.frames)
    func truncatedAtEveryOffset(frame: PeerFrame) throws {
        let bytes = FrameEncoder.encode(frame)
        for cut in 0..<bytes.count {
            let prefix = Array(bytes[..<cut])
            let partial = try prefix.withUnsafeBytes { try FrameDecoder.decodeFrame(in: $0, limits: .default) }
            #expect(partial == nil, "cut at \(cut) of \(bytes.count)")
            #expect(throws: WireError.self) { try FrameDecoder.decode(prefix) }

            var decoder = FrameDecoder()
            decoder.append(prefix)
            #expect(try decoder.nextFrame() == nil, "cut at \(cut) of \(bytes.count)")
            #expect(decoder.bufferedByteCount == cut)
            decoder.append(bytes[cut...])
            #expect(try decoder.nextFrame() == frame)
            #expect(try decoder.nextFrame() == nil)
            #expect(decoder.bufferedByteCount == 0)
        }
    }

    @Test("decoding a whole frame that is short reports how many bytes it needs")
    func incompleteWholeFrame() throws {
        let bytes = FrameEncoder.encode(.message(.timeoutNow(TimeoutNow(term: 9))))
        #expect(throws: WireError.incompleteFrame(needed: 14, available: 13)) {
            try FrameDecoder.decode(Array(bytes.dropLast()))
        }
        #expect(throws: WireError.incompleteFrame(needed: 6, available: 3)) {
            try FrameDecoder.decode(Array(bytes.prefix(3)))
        }
        #expect(throws: WireError.trailingBytes(.timeoutNow, offset: 14, count: 1)) {
            try FrameDecoder.decode(bytes + [0])
        }
    }

    @Test("a stream fed one byte at a time yields every frame in order")
    func byteDrip() throws {
        let stream = Fixtures.frames.flatMap { FrameEncoder.encode($0) }
        #expect(try Fixtures.decodeStream(stream, chunkSize: 1) == Fixtures.frames)
    }

    @Test("a stream fed in batches of any size yields every frame in order", arguments: [2, 3, 5, 6, 7, 46, 64, 1000, 1 << 20])
    func batched(chunkSize: Int) throws {
        let stream = Fixtures.frames.flatMap { FrameEncoder.encode($0) }
        #expect(try Fixtures.decodeStream(stream, chunkSize: chunkSize) == Fixtures.frames)
    }

    @Test("a stream fed in seeded random chunks yields every frame in order")
    func randomChunks() throws {
        let stream = Fixtures.frames.flatMap { FrameEncoder.encode($0) }
        var random = SplitMix64(seed: 0x5EED_C4C4)
        for round in 0..<20 {
            var decoder = FrameDecoder()
            var frames: [PeerFrame] = []
            var index = 0
            while index < stream.count {
                let end = min(stream.count, index + Int.random(in: 1...97, using: &random))
                decoder.append(stream[index..<end])
                index = end
                while let frame = try decoder.nextFrame() { frames.append(frame) }
            }
            #expect(frames == Fixtures.frames, "round \(round)")
            #expect(decoder.bufferedByteCount == 0)
        }
    }

    @Test("an oversized length prefix is refused from its 4 bytes alone", arguments: [
        [0x00, 0x01, 0x00, 0x01] as [UInt8], [0x7F, 0xFF, 0xFF, 0xFF], [0xFF, 0xFF, 0xFF, 0xFF],
    ])
    func oversizedLengthPrefix(prefix: [UInt8]) {
        var decoder = FrameDecoder()
        decoder.append(prefix)
        let declared = prefix.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        #expect(throws: WireError.frameTooLarge(declaredLength: declared, limit: 65_536)) { try decoder.nextFrame() }
        // Nothing was reserved for the declared length: only the 4 bytes that arrived are held.
        #expect(decoder.bufferedByteCount == 4)
    }

    @Test("the frame limit is configurable and inclusive")
    func configurableLimit() throws {
        let limits = try WireLimits(maxFrameLength: 8192)
        var header: [UInt8] = [0x00, 0x00, 0x20, 0x00, 0x01, 0x01]
        var decoder = FrameDecoder(limits: limits)
        decoder.append(header)
        #expect(try decoder.nextFrame() == nil, "8192 is within the limit: wait for the body")

        header[3] = 0x01
        decoder = FrameDecoder(limits: limits)
        decoder.append(header)
        #expect(throws: WireError.frameTooLarge(declaredLength: 8193, limit: 8192)) { try decoder.nextFrame() }
        #expect(WireLimits.default.maxFrameLength == 65_536)
    }

    @Test("limits that would refuse a valid handshake or allow huge buffers are refused")
    func limitBounds() {
        #expect(throws: WireLimitsError.self) { try WireLimits(maxFrameLength: WireLimits.minimumMaxFrameLength - 1) }
        #expect(throws: WireLimitsError.self) { try WireLimits(maxFrameLength: WireLimits.maximumMaxFrameLength + 1) }
        #expect(throws: WireLimitsError.self) { try WireLimits(maxFrameLength: -1) }
        #expect((try? WireLimits(maxFrameLength: WireLimits.maximumMaxFrameLength)) != nil)
    }

    @Test("length prefixes 0 and 1 are too short for a version and a type", arguments: [0, 1] as [UInt8])
    func tooShortLength(length: UInt8) {
        var decoder = FrameDecoder()
        decoder.append([0, 0, 0, length])
        #expect(throws: WireError.frameTooShort(declaredLength: UInt32(length))) { try decoder.nextFrame() }
    }

    @Test("an unsupported version is refused before the body arrives", arguments: [0, 4, 0xFF] as [UInt8])
    func unsupportedVersion(version: UInt8) {
        var decoder = FrameDecoder()
        decoder.append([0x00, 0x00, 0x00, 0x0A, version])
        #expect(throws: WireError.unsupportedVersion(version)) { try decoder.nextFrame() }
    }

    @Test("an unknown type is refused before the body arrives, reserved ranges included", arguments: [
        0x00, 0x03, 0x0F, 0x17, 0x1F, 0x24, 0x2F, 0x34, 0x3F, 0x40, 0x41, 0x4F, 0x50, 0xFF,
    ] as [UInt8])
    func unknownType(code: UInt8) {
        var decoder = FrameDecoder()
        decoder.append([0x00, 0x00, 0x00, 0x0A, 0x01, code])
        #expect(throws: WireError.unknownFrameType(code)) { try decoder.nextFrame() }
    }

    @Test("after an error the decoder stays failed and drops further bytes")
    func errorsAreFinal() {
        var decoder = FrameDecoder()
        decoder.append([0x00, 0x00, 0x00, 0x0A, 0x09])
        #expect(throws: WireError.unsupportedVersion(9)) { try decoder.nextFrame() }
        decoder.append(FrameEncoder.encode(.message(.timeoutNow(TimeoutNow(term: 1)))))
        #expect(throws: WireError.unsupportedVersion(9)) { try decoder.nextFrame() }
        #expect(decoder.error == .unsupportedVersion(9))
        #expect(decoder.bufferedByteCount == 5)
    }

    @Test("frames before a bad one are delivered; the bad one stops the stream")
    func goodFramesBeforeBadOne() throws {
        let good = FrameEncoder.encode(.message(.timeoutNow(TimeoutNow(term: 1))))
        var decoder = FrameDecoder()
        decoder.append(good + good + [0x00, 0x00, 0x00, 0x02, 0x01, 0x99])
        #expect(try decoder.nextFrame() == .message(.timeoutNow(TimeoutNow(term: 1))))
        #expect(try decoder.nextFrame() == .message(.timeoutNow(TimeoutNow(term: 1))))
        #expect(throws: WireError.unknownFrameType(0x99)) { try decoder.nextFrame() }
    }

    @Test("the buffer holds only pending bytes, however long the stream runs")
    func bufferStaysBounded() throws {
        let frame = FrameEncoder.encode(.message(.heartbeat(Heartbeat(term: 1, sequence: 2, leaderLog: .empty))))
        var decoder = FrameDecoder()
        for _ in 0..<10_000 {
            decoder.append(frame[..<10])
            decoder.append(frame[10...])
            #expect(try decoder.nextFrame() != nil)
            #expect(decoder.retainedByteCount <= 2 * frame.count)
        }
        decoder.append(frame[..<3])
        #expect(decoder.bufferedByteCount == 3)
    }
}
