import BallotWire
import NIOCore

/// Splits a peer connection's byte stream into ``PeerFrame`` values.
///
/// It runs the same decoding as `FrameDecoder`, but directly on the handler's own accumulation
/// buffer, so bytes are never copied a second time: `FrameDecoder.decodeFrame(in:limits:)` reads
/// the frame in place and the reader index moves past it. Errors are `WireError`s; once one is
/// thrown, NIO's `ByteToMessageHandler` refuses further input, and the connection's owner sends
/// `error.rejection` and closes.
public struct PeerFrameDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = PeerFrame

    public let limits: WireLimits

    public init(limits: WireLimits = .default) {
        self.limits = limits
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let limits = limits
        let decoded = try buffer.withUnsafeReadableBytes { bytes in
            try FrameDecoder.decodeFrame(in: bytes, limits: limits)
        }
        guard let decoded else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: decoded.byteCount)
        context.fireChannelRead(wrapInboundOut(decoded.frame))
        return .continue
    }

    /// Delivers the whole frames still buffered when the stream ends or the handler is removed.
    /// A partial frame left over is reported as `ByteToMessageDecoderError.leftoverDataWhenDone`,
    /// not as a `WireError`: a peer that dies mid-write has not sent anything malformed.
    public mutating func decodeLast(
        context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool
    ) throws -> DecodingState {
        let state = try decode(context: context, buffer: &buffer)
        if state == .needMoreData, buffer.readableBytes > 0 {
            throw ByteToMessageDecoderError.leftoverDataWhenDone(buffer)
        }
        return state
    }
}

/// A frame to write and the protocol version its connection speaks (connection-opening frames
/// are written in version 1 whatever it says; see `FrameEncoder`).
public struct OutboundFrame: Hashable, Sendable {
    public var frame: PeerFrame
    public var version: UInt8

    public init(_ frame: PeerFrame, version: UInt8 = WireVersion.setup) {
        self.frame = frame
        self.version = version
    }
}

/// Writes ``OutboundFrame`` values straight into the outbound buffer, with no intermediate array.
public struct PeerFrameEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = OutboundFrame

    public init() {}

    public func encode(data outbound: OutboundFrame, out: inout ByteBuffer) throws {
        let count = FrameEncoder.encodedByteCount(of: outbound.frame, version: outbound.version)
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { bytes in
            FrameEncoder.encode(outbound.frame, into: bytes, version: outbound.version)
        }
    }
}
