import Testing
@testable import BallotServer

@Suite struct CRC32Tests {
    /// Check values of CRC-32/ISO-HDLC, the variant zlib and PNG use.
    @Test(arguments: [
        ("", UInt32(0)),
        ("a", 0xE8B7_BE43),
        ("123456789", 0xCBF4_3926),
        ("The quick brown fox jumps over the lazy dog", 0x414F_A339),
    ])
    func matchesTheStandardCheckValues(input: String, expected: UInt32) {
        #expect(CRC32.checksum(Array(input.utf8)) == expected)
    }

    @Test func incrementalUpdatesEqualOneShot() {
        let bytes = Array("The quick brown fox jumps over the lazy dog".utf8)
        var crc = CRC32()
        crc.update(bytes[0..<10])
        crc.update(bytes[10...])
        #expect(crc.value == CRC32.checksum(bytes))
    }
}
