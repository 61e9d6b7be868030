import BallotZooKeeper
import NIOCore
import Testing

/// The decoder refuses what a server must never send — with the field, the offset and the reason —
/// and never traps or allocates from a length it has not checked.
@Suite("Jute strictness")
struct JuteStrictnessTests {
    static let create2Body = juteString("/e/n-0000000001") + goldenStatBytes
    static let connectBody = hex("00000000 00000FA0 0102030405060708 00000010") + [UInt8](repeating: 7, count: 16) + [0]

    @Test("Every truncation of a valid record is refused as truncated, at the field where it ends")
    func truncated() {
        for cut in 0..<Self.create2Body.count {
            let error = protocolError { _ = try decode(Array(Self.create2Body[0..<cut]), Create2Response.decode) }
            guard case .malformed(_, _, .truncated) = error else {
                Issue.record("cut at \(cut): \(String(describing: error))")
                continue
            }
        }
        #expect(protocolError { _ = try decode(hex("00 00 00 07  00 00"), ReplyHeader.decode) }
            == .malformed(JuteField("ReplyHeader", "zxid"), offset: 8, .truncated(needed: 8, available: 2)))
    }

    @Test("Trailing bytes after a record are refused")
    func trailing() {
        #expect(protocolError { _ = try decode(Self.create2Body + [0], Create2Response.decode) }
            == .malformed(JuteField("Create2Response", "<end>"), offset: 4 + Self.create2Body.count, .trailingBytes(count: 1)))
        #expect(protocolError { _ = try decode(Self.connectBody + [0], ConnectResponse.decode) }
            == .malformed(JuteField("ConnectResponse", "<end>"), offset: 4 + Self.connectBody.count, .trailingBytes(count: 1)))
        #expect(protocolError { _ = try decode([1, 2], EmptyResponse.decode) }
            == .malformed(JuteField("ReplyHeader", "<end>"), offset: 4, .trailingBytes(count: 2)))
    }

    @Test("Negative lengths other than jute's null (-1) are refused; null where a value must be too")
    func negativeLengths() {
        #expect(protocolError { _ = try decode(hex("FF FF FF FE 41"), { try $0.readString(JuteField("T", "s")) }) }
            == .malformed(JuteField("T", "s"), offset: 4, .negativeLength(-2)))
        #expect(protocolError { _ = try decode(hex("80 00 00 00"), { try $0.readBuffer(JuteField("T", "b")) }) }
            == .malformed(JuteField("T", "b"), offset: 4, .negativeLength(.min)))
        #expect(protocolError { _ = try decode(hex("FF FF FF FF"), { try $0.readString(JuteField("T", "s")) }) }
            == .malformed(JuteField("T", "s"), offset: 4, .unexpectedNull))
        #expect(protocolError { _ = try decode(hex("FF FF FF FF"), GetChildrenResponse.decode) }
            == .malformed(JuteField("GetChildrenResponse", "children"), offset: 4, .unexpectedNull))
    }

    @Test("Lengths above the limits are refused before anything is allocated")
    func oversize() {
        let limits = ZooKeeperLimits(maxFrameLength: 1 << 20, maxStringLength: 8, maxBufferLength: 4, maxVectorCount: 2)
        #expect(protocolError { _ = try decode(juteString("/123456789"), limits: limits, { try $0.readString(JuteField("T", "s")) }) }
            == .malformed(JuteField("T", "s"), offset: 4, .lengthOverLimit(10, limit: 8)))
        #expect(protocolError { _ = try decode(hex("00 00 00 05 01 02 03 04 05"), limits: limits, { try $0.readBuffer(JuteField("T", "b")) }) }
            == .malformed(JuteField("T", "b"), offset: 4, .lengthOverLimit(5, limit: 4)))
        #expect(protocolError { _ = try decode(hex("00 00 00 03"), limits: limits, GetChildrenResponse.decode) }
            == .malformed(JuteField("GetChildrenResponse", "children"), offset: 4, .lengthOverLimit(3, limit: 2)))
        // Within the limits but beyond the frame: a count of 2^18 children in 8 bytes is refused
        // by its size (each child takes at least 4 bytes), not by running out while reserving.
        #expect(protocolError { _ = try decode(int32(1 << 18) + hex("00 00 00 00 00 00 00 00"), GetChildrenResponse.decode) }
            == .malformed(JuteField("GetChildrenResponse", "children"), offset: 8, .truncated(needed: 1 << 20, available: 8)))
        #expect(protocolError { _ = try decode(int32(1 << 20) + hex("00"), { try $0.readBuffer(JuteField("T", "b")) }) }
            == .malformed(JuteField("T", "b"), offset: 8, .truncated(needed: 1 << 20, available: 1)))
    }

    @Test("Frames: a length over the limit or negative is refused as soon as its 4 bytes arrive")
    func frames() throws {
        let limits = ZooKeeperLimits(maxFrameLength: 100)
        var oversized = ByteBuffer(bytes: int32(101))
        #expect(throws: ZooKeeperProtocolError.frameTooLarge(declaredLength: 101, limit: 100)) {
            _ = try ZooKeeperFrameDecoder.nextFrame(in: &oversized, limits: limits)
        }
        var huge = ByteBuffer(bytes: hex("7F FF FF FF"))
        #expect(throws: ZooKeeperProtocolError.frameTooLarge(declaredLength: Int(Int32.max), limit: 1 << 20)) {
            _ = try ZooKeeperFrameDecoder.nextFrame(in: &huge, limits: .default)
        }
        var negative = ByteBuffer(bytes: hex("FF FF FF F0"))
        #expect(throws: ZooKeeperProtocolError.malformed(JuteField("frame", "length"), offset: 0, .negativeLength(-16))) {
            _ = try ZooKeeperFrameDecoder.nextFrame(in: &negative, limits: limits)
        }
        var partial = ByteBuffer(bytes: hex("00 00 00 64") + [UInt8](repeating: 0, count: 99))
        #expect(try ZooKeeperFrameDecoder.nextFrame(in: &partial, limits: limits) == nil)
        #expect(partial.readableBytes == 103)
    }

    @Test("Booleans, UTF-8 and enumerations hold only what the protocol allows")
    func values() {
        #expect(protocolError { _ = try decode(Array(Self.connectBody.dropLast()) + [2], ConnectResponse.decode) }
            == .malformed(JuteField("ConnectResponse", "readOnly"), offset: 4 + Self.connectBody.count - 1, .invalidBool(2)))
        #expect(protocolError { _ = try decode(hex("00 00 00 02 C3 28"), { try $0.readString(JuteField("T", "s")) }) }
            == .malformed(JuteField("T", "s"), offset: 8, .invalidUTF8))
        #expect(protocolError { _ = try decode(hex("00 00 00 05  00 00 00 03  00 00 00 02 2F 61"), WatcherEvent.decode) }
            == .malformed(JuteField("WatcherEvent", "type"), offset: 4, .unexpectedValue(5)))
        #expect(protocolError { _ = try decode(hex("00 00 00 02  00 00 00 00  00 00 00 02 2F 61"), WatcherEvent.decode) }
            == .malformed(JuteField("WatcherEvent", "state"), offset: 8, .unexpectedValue(0)))
    }

    @Test("Seeded garbage: every decoder either decodes or throws its typed error, and never traps")
    func garbage() {
        var random = SeededGenerator(state: 0x2007_C0DE)
        let decoders: [(inout JuteReader) throws -> Void] = [
            { _ = try ConnectResponse.decode(from: &$0) }, { _ = try ReplyHeader.decode(from: &$0) },
            { _ = try Create2Response.decode(from: &$0) }, { _ = try ExistsResponse.decode(from: &$0) },
            { _ = try GetDataResponse.decode(from: &$0) }, { _ = try GetChildrenResponse.decode(from: &$0) },
            { _ = try WatcherEvent.decode(from: &$0) }, { _ = try EmptyResponse.decode(from: &$0) },
        ]
        let valid = [Self.connectBody, Self.create2Body, goldenStatBytes, hex("00 00 00 02  00 00 00 01 78  00 00 00 02 79 7A")]
        var decoded = 0
        var refused = 0
        for round in 0..<4000 {
            var input: [UInt8]
            if round % 2 == 0 {
                input = (0..<Int.random(in: 0...96, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            } else {
                input = valid.randomElement(using: &random)!
                for _ in 0..<Int.random(in: 1...3, using: &random) where !input.isEmpty {
                    input[Int.random(in: 0..<input.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                }
                if Bool.random(using: &random) { input.removeLast(Int.random(in: 0...min(6, input.count), using: &random)) }
            }
            for decoder in decoders {
                var reader = JuteReader(payload: ByteBuffer(bytes: input),
                                        limits: ZooKeeperLimits(maxFrameLength: 1 << 20, maxStringLength: 64, maxBufferLength: 64, maxVectorCount: 16))
                do {
                    try decoder(&reader)
                    decoded += 1
                } catch let error as ZooKeeperProtocolError {
                    guard case .malformed = error else {
                        Issue.record("unexpected error \(error)")
                        return
                    }
                    refused += 1
                } catch {
                    Issue.record("not a ZooKeeperProtocolError: \(error)")
                    return
                }
            }
        }
        #expect(decoded > 0)
        #expect(refused > 0)
    }
}
