import NIOCore

/// Reads the jute fields of one frame's payload, big-endian, checking every read against the
/// frame's end and every length against ``ZooKeeperLimits`` before it reads or allocates.
///
/// Jute, ZooKeeper's serialization: `int` is 4 bytes, `long` 8, `boolean` one byte (0 or 1);
/// `ustring` and `buffer` are an `int` length then that many bytes, and `vector` an `int` count
/// then the elements, where a length of -1 means null. It never traps: any problem throws
/// ``ZooKeeperProtocolError/malformed(_:offset:_:)`` with the field and its offset.
public struct JuteReader {
    private var buffer: ByteBuffer
    private let start: Int
    public let limits: ZooKeeperLimits

    /// A reader over `payload`: one frame without its 4-byte length prefix.
    public init(payload: ByteBuffer, limits: ZooKeeperLimits = .default) {
        self.buffer = payload
        self.start = payload.readerIndex
        self.limits = limits
    }

    /// Bytes not read yet.
    public var remaining: Int { buffer.readableBytes }

    /// The offset of the next byte, counted from the frame's length prefix.
    public var offset: Int { 4 + buffer.readerIndex - start }

    private func fail(_ field: JuteField, _ problem: Malformation, at offset: Int? = nil) -> ZooKeeperProtocolError {
        .malformed(field, offset: offset ?? self.offset, problem)
    }

    private func require(_ count: Int, for field: JuteField) throws(ZooKeeperProtocolError) {
        guard count <= remaining else { throw fail(field, .truncated(needed: count, available: remaining)) }
    }

    public mutating func readInt(_ field: JuteField) throws(ZooKeeperProtocolError) -> Int32 {
        try require(4, for: field)
        return buffer.readInteger(as: Int32.self)!  // Checked above: four bytes are there.
    }

    public mutating func readLong(_ field: JuteField) throws(ZooKeeperProtocolError) -> Int64 {
        try require(8, for: field)
        return buffer.readInteger(as: Int64.self)!
    }

    public mutating func readBool(_ field: JuteField) throws(ZooKeeperProtocolError) -> Bool {
        try require(1, for: field)
        let at = offset
        switch buffer.readInteger(as: UInt8.self)! {
        case 0: return false
        case 1: return true
        case let value: throw fail(field, .invalidBool(value), at: at)
        }
    }

    /// A length prefix: nil for jute's null (-1); otherwise checked against `limit` and against
    /// the bytes left, assuming each unit takes at least `unitSize` bytes.
    private mutating func readLength(_ field: JuteField, limit: Int, unitSize: Int) throws(ZooKeeperProtocolError) -> Int? {
        let at = offset
        let length = try readInt(field)
        if length == -1 { return nil }
        guard length >= 0 else { throw fail(field, .negativeLength(length), at: at) }
        guard Int(length) <= limit else { throw fail(field, .lengthOverLimit(Int(length), limit: limit), at: at) }
        try require(Int(length) * unitSize, for: field)
        return Int(length)
    }

    /// A `ustring`, which must not be null: ZooKeeper never sends a null path or name.
    public mutating func readString(_ field: JuteField) throws(ZooKeeperProtocolError) -> String {
        let at = offset
        guard let length = try readLength(field, limit: limits.maxStringLength, unitSize: 1) else {
            throw fail(field, .unexpectedNull, at: at)
        }
        let text = buffer.withUnsafeReadableBytes { bytes in
            String(validating: UnsafeRawBufferPointer(rebasing: bytes[0..<length]), as: UTF8.self)
        }
        guard let text else { throw fail(field, .invalidUTF8, at: at + 4) }
        buffer.moveReaderIndex(forwardBy: length)
        return text
    }

    /// A `buffer`; jute's null (a node created with null data) reads as empty.
    public mutating func readBuffer(_ field: JuteField) throws(ZooKeeperProtocolError) -> [UInt8] {
        guard let length = try readLength(field, limit: limits.maxBufferLength, unitSize: 1) else { return [] }
        return buffer.readBytes(length: length)!  // readLength checked that the bytes are there.
    }

    /// A `vector<ustring>`, which must not be null. Each element takes at least its 4-byte length,
    /// so the count is checked against the bytes left before any storage is reserved.
    public mutating func readStringVector(_ field: JuteField) throws(ZooKeeperProtocolError) -> [String] {
        let at = offset
        guard let count = try readLength(field, limit: limits.maxVectorCount, unitSize: 4) else {
            throw fail(field, .unexpectedNull, at: at)
        }
        var strings: [String] = []
        strings.reserveCapacity(count)
        for _ in 0..<count { strings.append(try readString(field)) }
        return strings
    }

    /// Throws unless every byte of the frame was read: a record is exactly its fields.
    public func finish(_ record: String) throws(ZooKeeperProtocolError) {
        guard remaining == 0 else { throw fail(JuteField(record, "<end>"), .trailingBytes(count: remaining)) }
    }
}
