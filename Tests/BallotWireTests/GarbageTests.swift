import BallotCore
import BallotWire
import Testing

/// Seeded garbage: the decoder must never trap, never loop, and never return a frame the encoder
/// would not have written byte for byte.
@Suite("Seeded garbage")
struct GarbageTests {
    static let seed: UInt64 = 0xB411_07_5EED
    static let inputCount = 5_000

    /// Three kinds of input in turn: raw random bytes; a valid header with a random body; a valid
    /// frame with a few bytes flipped, cut short or extended.
    static func input(_ n: Int, _ random: inout SplitMix64) -> [UInt8] {
        func randomBytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) } }
        switch n % 3 {
        case 0:
            return randomBytes(Int.random(in: 0...48, using: &random))
        case 1:
            let body = randomBytes(Int.random(in: 0...48, using: &random))
            let codes = FrameType.allCases.map(\.rawValue) + [0x00, 0x2F, 0x3F, 0xFF]
            let length = UInt32(body.count + 2)
            return [0, 0, UInt8(length >> 8), UInt8(length & 0xFF), 1, codes.randomElement(using: &random)!] + body
        default:
            var bytes = FrameEncoder.encode(Fixtures.oneOfEachType.randomElement(using: &random)!)
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                switch Int.random(in: 0..<4, using: &random) {
                case 0, 1: bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                case 2: bytes.removeLast(Int.random(in: 0...min(4, bytes.count - 1), using: &random))
                default: bytes += randomBytes(Int.random(in: 1...4, using: &random))
                }
            }
            return bytes
        }
    }

    /// What decoding one input found: its frames in order, then the error that stopped it, if any.
    struct Walk: Equatable {
        var frames: [PeerFrame] = []
        var error: WireError?
    }

    @Test("5,000 seeded garbage inputs never crash and only decode canonical frames")
    func garbageNeverCrashes() throws {
        var random = SplitMix64(seed: Self.seed)
        var decodedCount = 0
        var reasons = Set<WireErrorReason>()
        for n in 0..<Self.inputCount {
            let input = Self.input(n, &random)

            // Stateless walk: each frame must re-encode to exactly the bytes it was decoded from.
            var walk = Walk()
            var offset = 0
            for _ in 0...(input.count / FrameLayout.headerLength) {
                do {
                    let rest = Array(input[offset...])
                    guard let (frame, count) = try rest.withUnsafeBytes({ try FrameDecoder.decodeFrame(in: $0, limits: .default) })
                    else { break }
                    // Re-encoded in the version its header named (connection-opening frames are always 1).
                    #expect(FrameEncoder.encode(frame, version: rest[FrameLayout.versionOffset]) == Array(rest[..<count]),
                            "input \(n) of seed \(Self.seed)")
                    walk.frames.append(frame)
                    offset += count
                } catch let error as WireError {
                    walk.error = error
                    reasons.insert(error.reason)
                    #expect(!error.description.isEmpty)
                    break
                }
            }
            decodedCount += walk.frames.count

            // The streaming decoder, fed in random chunks, must agree with the walk.
            var decoder = FrameDecoder()
            var streamed = Walk()
            var index = 0
            feeding: while index < input.count {
                let end = min(input.count, index + Int.random(in: 1...16, using: &random))
                decoder.append(input[index..<end])
                index = end
                for _ in 0...(end / FrameLayout.headerLength) {
                    do {
                        guard let frame = try decoder.nextFrame() else { break }
                        streamed.frames.append(frame)
                    } catch {
                        streamed.error = error
                        break feeding
                    }
                }
            }
            #expect(streamed == walk, "input \(n) of seed \(Self.seed): \(input)")
        }
        #expect(decodedCount > 100, "the structured inputs should decode some frames")
        #expect(reasons.isSuperset(of: [.malformed, .oversized, .badVersion, .unknownType, .wrongCluster]))
    }
}
