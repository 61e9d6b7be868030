import BallotCore

/// Reads the fields of one frame body in place, checking every read against the body's end.
///
/// It never copies the body and never traps: each read that would pass the end throws
/// ``WireError/truncatedBody(_:field:offset:needed:available:)``. Offsets in errors count from
/// the first byte of the frame.
struct WireReader {
    private let bytes: UnsafeRawBufferPointer
    /// The next byte to read, as an index into `bytes` (which starts at the frame's first byte).
    private(set) var offset: Int
    let frameType: FrameType

    /// A reader over the body of `frame`, which holds exactly one whole frame.
    init(frame: UnsafeRawBufferPointer, type: FrameType) {
        self.bytes = frame
        self.offset = FrameLayout.headerLength
        self.frameType = type
    }

    var remaining: Int { bytes.count - offset }

    private mutating func take(_ count: Int, for field: WireField) throws(WireError) -> Int {
        guard count <= remaining else {
            throw .truncatedBody(frameType, field: field, offset: offset, needed: count, available: remaining)
        }
        defer { offset += count }
        return offset
    }

    mutating func readUInt8(_ field: WireField) throws(WireError) -> UInt8 {
        bytes[try take(1, for: field)]
    }

    mutating func readUInt16(_ field: WireField) throws(WireError) -> UInt16 {
        let at = try take(2, for: field)
        return UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self))
    }

    mutating func readUInt64(_ field: WireField) throws(WireError) -> UInt64 {
        let at = try take(8, for: field)
        return UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self))
    }

    /// A byte that must be 0 or 1.
    mutating func readBool(_ field: WireField) throws(WireError) -> Bool {
        let at = offset
        switch try readUInt8(field) {
        case 0: return false
        case 1: return true
        case let value: throw .invalidBool(frameType, field: field, offset: at, value: value)
        }
    }

    mutating func readTerm(_ field: WireField) throws(WireError) -> Term { Term(try readUInt64(field)) }

    /// A node ID where 0 means "no node".
    mutating func readOptionalNodeID(_ field: WireField) throws(WireError) -> NodeID? {
        NodeID(try readUInt64(field))
    }

    /// A node ID that must name a real node.
    mutating func readNodeID(_ field: WireField) throws(WireError) -> NodeID {
        let at = offset
        guard let id = NodeID(try readUInt64(field)) else {
            throw .zeroNodeID(frameType, field: field, offset: at)
        }
        return id
    }

    mutating func readLogPosition(index: WireField, term: WireField) throws(WireError) -> LogPosition {
        let position = try readUInt64(index)
        return LogPosition(index: position, term: try readTerm(term))
    }

    /// `count` raw bytes, as a view into the frame (valid only while the frame's storage is).
    mutating func readBytes(_ count: Int, _ field: WireField) throws(WireError) -> UnsafeRawBufferPointer {
        let at = try take(count, for: field)
        return UnsafeRawBufferPointer(rebasing: bytes[at..<(at + count)])
    }

    /// `count` bytes that must be valid UTF-8.
    mutating func readUTF8(_ count: Int, _ field: WireField) throws(WireError) -> String {
        let at = offset
        let raw = try readBytes(count, field)
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw .invalidUTF8(frameType, field: field, offset: at)
        }
        return text
    }

    /// Every byte of the body has been read.
    func finish() throws(WireError) {
        guard remaining == 0 else { throw .trailingBytes(frameType, offset: offset, count: remaining) }
    }
}
