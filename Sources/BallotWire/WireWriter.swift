import BallotCore

/// Writes big-endian fields into memory the encoder sized exactly beforehand.
///
/// The encoder computes a frame's length first, so the writer never needs to grow or check for
/// room beyond the debug-build bounds checks of the raw buffer it writes into.
struct WireWriter {
    private let bytes: UnsafeMutableRawBufferPointer
    private(set) var offset: Int

    init(into bytes: UnsafeMutableRawBufferPointer) {
        self.bytes = bytes
        self.offset = 0
    }

    mutating func write(_ value: UInt8) {
        bytes.storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
        offset += 1
    }

    mutating func write(_ value: UInt16) {
        bytes.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
        offset += 2
    }

    mutating func write(_ value: UInt32) {
        bytes.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
        offset += 4
    }

    mutating func write(_ value: UInt64) {
        bytes.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt64.self)
        offset += 8
    }

    mutating func write(_ value: Bool) { write(value ? 1 as UInt8 : 0) }

    mutating func write(_ term: Term) { write(term.rawValue) }

    /// A node ID, with 0 standing for "no node".
    mutating func write(_ node: NodeID?) { write(node?.rawValue ?? 0) }

    /// A node ID that is always present.
    mutating func write(_ node: NodeID) { write(node.rawValue) }

    mutating func write(_ position: LogPosition) {
        write(position.index)
        write(position.term)
    }

    mutating func write(contentsOf source: some Collection<UInt8>) {
        let count = source.count
        UnsafeMutableRawBufferPointer(rebasing: bytes[offset..<(offset + count)]).copyBytes(from: source)
        offset += count
    }
}
