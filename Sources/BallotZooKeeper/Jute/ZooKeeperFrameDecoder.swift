import NIOCore

/// Splits a ZooKeeper connection's byte stream into frames: a 4-byte big-endian length, then
/// that many bytes. Emits each payload (without its prefix) as a `ByteBuffer`.
///
/// The length is checked as soon as its four bytes arrive, so an oversized or negative frame is
/// refused before a single byte of it is buffered.
public struct ZooKeeperFrameDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = ByteBuffer

    public let limits: ZooKeeperLimits

    public init(limits: ZooKeeperLimits = .default) {
        self.limits = limits
    }

    /// The next whole frame's payload in `buffer`, or nil if it has not fully arrived.
    public static func nextFrame(in buffer: inout ByteBuffer, limits: ZooKeeperLimits) throws(ZooKeeperProtocolError) -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return nil }
        guard length >= 0 else {
            throw .malformed(JuteField("frame", "length"), offset: 0, .negativeLength(length))
        }
        guard Int(length) <= limits.maxFrameLength else {
            throw .frameTooLarge(declaredLength: Int(length), limit: limits.maxFrameLength)
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: Int(length))
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try Self.nextFrame(in: &buffer, limits: limits) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    /// Whole frames still buffered at the end are delivered; a partial one is dropped: a server that
    /// closes mid-frame has not sent anything malformed, it has just gone.
    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        let state = try decode(context: context, buffer: &buffer)
        if state == .needMoreData { buffer.moveReaderIndex(to: buffer.writerIndex) }
        return state
    }
}
