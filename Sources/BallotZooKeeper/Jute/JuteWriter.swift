import NIOCore

/// Writes jute fields, big-endian, into a `ByteBuffer` (see ``JuteReader`` for the encoding).
public struct JuteWriter {
    public private(set) var buffer: ByteBuffer

    public init(buffer: ByteBuffer = ByteBuffer()) {
        self.buffer = buffer
    }

    public mutating func writeInt(_ value: Int32) { buffer.writeInteger(value) }
    public mutating func writeLong(_ value: Int64) { buffer.writeInteger(value) }
    public mutating func writeBool(_ value: Bool) { buffer.writeInteger(UInt8(value ? 1 : 0)) }

    public mutating func writeString(_ value: String) {
        let lengthIndex = buffer.writerIndex
        buffer.writeInteger(Int32(0))
        let count = buffer.writeString(value)
        buffer.setInteger(Int32(truncatingIfNeeded: count), at: lengthIndex)
    }

    public mutating func writeBuffer(_ bytes: [UInt8]) {
        buffer.writeInteger(Int32(truncatingIfNeeded: bytes.count))
        buffer.writeBytes(bytes)
    }

    public mutating func writeStringVector(_ strings: [String]) {
        buffer.writeInteger(Int32(truncatingIfNeeded: strings.count))
        for string in strings { writeString(string) }
    }

    /// One frame: the 4-byte length prefix, then whatever `body` writes.
    public static func frame(_ body: (inout JuteWriter) -> Void) -> ByteBuffer {
        var writer = JuteWriter()
        writer.writeInt(0)
        body(&writer)
        writer.buffer.setInteger(Int32(truncatingIfNeeded: writer.buffer.readableBytes - 4), at: writer.buffer.readerIndex)
        return writer.buffer
    }
}
