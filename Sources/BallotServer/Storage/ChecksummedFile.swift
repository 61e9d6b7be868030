/// The envelope every Ballot state file shares (`hard-state`, `candidacy`). All integers are
/// big-endian.
///
/// ```text
/// offset   size  field
/// 0        8     magic, e.g. "BALLOTHS"
/// 8        2     format version
/// 10       4     body length L
/// 14       L     body (the file kind's own layout)
/// 14+L     4     CRC-32 (IEEE) of bytes 0 ..< 14+L
/// ```
///
/// The checksum sits at a place the header alone determines, so it is verified before the
/// version is trusted: a flipped version byte reads as corruption, not as a newer format.
enum ChecksummedFile {
    /// Magic, version and body length.
    static let headerSize = 14
    static let checksumSize = 4
    /// An empty body: no valid file is smaller.
    static let minimumSize = headerSize + checksumSize
    /// Larger files are refused unread.
    static let maximumSize = 1 << 16

    static func encode(magic: [UInt8], version: UInt16, body: [UInt8]) -> [UInt8] {
        var file = magic
        file.appendBigEndian(version)
        file.appendBigEndian(UInt32(body.count))
        file += body
        file.appendBigEndian(CRC32.checksum(file))
        return file
    }

    /// The body of a file of kind `magic` written in format `version`, after every check of the
    /// envelope; each failure names the file and says what is wrong.
    static func decode(_ bytes: [UInt8], magic: [UInt8], version supported: UInt16, path: String)
        throws(StateStoreError) -> [UInt8]
    {
        guard bytes.count >= magic.count else {
            // A prefix of the magic is a file cut short; anything else was never ours.
            guard magic.starts(with: bytes) else { throw .notAStateFile(path: path) }
            throw .truncated(path: path, size: bytes.count, expectedSize: minimumSize)
        }
        guard bytes.starts(with: magic) else { throw .notAStateFile(path: path) }
        guard bytes.count >= headerSize else {
            throw .truncated(path: path, size: bytes.count, expectedSize: minimumSize)
        }
        let bodyLength = Int(bytes.readBigEndian(UInt32.self, at: 10))
        guard bodyLength <= maximumSize - minimumSize else {
            throw .corrupt(path: path, detail: "its header gives a body of \(bodyLength) bytes, more than any state file holds")
        }
        let expectedSize = minimumSize + bodyLength
        guard bytes.count >= expectedSize else {
            throw .truncated(path: path, size: bytes.count, expectedSize: expectedSize)
        }
        guard bytes.count == expectedSize else {
            throw .corrupt(path: path, detail: "\(bytes.count - expectedSize) unexpected bytes follow the checksum")
        }
        let checksumOffset = headerSize + bodyLength
        let stored = bytes.readBigEndian(UInt32.self, at: checksumOffset)
        let computed = CRC32.checksum(bytes[0..<checksumOffset])
        guard stored == computed else { throw .checksumMismatch(path: path, stored: stored, computed: computed) }

        let version = bytes.readBigEndian(UInt16.self, at: 8)
        guard version == supported else { throw .unsupportedVersion(path: path, version: version) }
        return Array(bytes[headerSize..<checksumOffset])
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        var bigEndian = value.bigEndian
        Swift.withUnsafeBytes(of: &bigEndian) { append(contentsOf: $0) }
    }

    /// The caller has checked that `offset + size` is within bounds.
    func readBigEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        self[offset..<(offset + MemoryLayout<T>.size)].reduce(T.zero) { ($0 << 8) | T($1) }
    }
}
