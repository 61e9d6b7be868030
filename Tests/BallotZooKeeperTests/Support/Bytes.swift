import BallotZooKeeper
import NIOCore
import Testing

/// Golden bytes written as hex, the way the jute spec lays them out: `hex("00 00 00 2d")`.
func hex(_ text: String) -> [UInt8] {
    let digits = text.filter { !$0.isWhitespace }
    precondition(digits.count % 2 == 0, "odd number of hex digits in test data")
    var bytes: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        bytes.append(UInt8(digits[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}

/// A jute `ustring`: 4-byte big-endian length, then the UTF-8 bytes.
func juteString(_ text: String) -> [UInt8] { int32(Int32(text.utf8.count)) + Array(text.utf8) }
func int32(_ value: Int32) -> [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }
func int64(_ value: Int64) -> [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }

/// `bytes` with a 4-byte length prefix: one frame.
func framed(_ bytes: [UInt8]) -> [UInt8] { int32(Int32(bytes.count)) + bytes }

func bytes(of buffer: ByteBuffer) -> [UInt8] { Array(buffer.readableBytesView) }

/// Decodes `payload` (a frame without its prefix) with `decode`.
func decode<T>(_ payload: [UInt8], limits: ZooKeeperLimits = .default,
               _ decode: (inout JuteReader) throws -> T) rethrows -> T {
    var reader = JuteReader(payload: ByteBuffer(bytes: payload), limits: limits)
    return try decode(&reader)
}

/// The protocol error `body` throws, or nil (any other error fails the test).
func protocolError(_ body: () throws -> Void) -> ZooKeeperProtocolError? {
    do {
        try body()
        return nil
    } catch let error as ZooKeeperProtocolError {
        return error
    } catch {
        Issue.record("not a ZooKeeperProtocolError: \(error)")
        return nil
    }
}

/// A small seeded generator (SplitMix64), so that a garbage test replays exactly.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A hand-built Stat: every field distinct, so a swapped field shows.
let goldenStat = Stat(
    czxid: 0x0000_0001_0000_0002, mzxid: 0x0000_0001_0000_0003, ctime: 1_700_000_000_000, mtime: 1_700_000_000_001,
    version: 4, cversion: 5, aversion: 6, ephemeralOwner: 0x0123_4567_89AB_CDEF, dataLength: 7, numChildren: 8,
    pzxid: 0x0000_0001_0000_0009
)

/// `goldenStat` as the spec lays it out: czxid, mzxid, ctime, mtime (longs); version, cversion,
/// aversion (ints); ephemeralOwner (long); dataLength, numChildren (ints); pzxid (long).
let goldenStatBytes = hex("""
    00 00 00 01 00 00 00 02  00 00 00 01 00 00 00 03
    00 00 01 8B CF E5 68 00  00 00 01 8B CF E5 68 01
    00 00 00 04  00 00 00 05  00 00 00 06
    01 23 45 67 89 AB CD EF
    00 00 00 07  00 00 00 08
    00 00 00 01 00 00 00 09
    """)
