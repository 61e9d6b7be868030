/// A streaming decoder: append bytes as they arrive from the socket, pull whole frames out.
///
/// It checks each header field the moment it is buffered: the length prefix against
/// ``WireLimits/maxFrameLength`` as soon as its 4 bytes are there, then the version, then the
/// type, so a hostile or foreign peer is refused before its body is even received. Nothing is
/// ever allocated from a declared length; the buffer only ever holds bytes that actually arrived.
///
/// Errors are final: once ``nextFrame()`` has thrown, the stream's framing can no longer be
/// trusted, so every later call throws the same error and appended bytes are dropped. The owner
/// sends ``WireError/rejection`` (if any) and closes the connection.
public struct FrameDecoder: Sendable {
    public let limits: WireLimits
    private var buffer: [UInt8] = []
    /// Index of the first byte not yet consumed by a decoded frame.
    private var start = 0
    private var failure: WireError?

    public init(limits: WireLimits = .default) {
        self.limits = limits
    }

    /// Bytes received but not yet returned as part of a frame.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Bytes held in storage, consumed ones not yet reclaimed included; for tests of the bound.
    var retainedByteCount: Int { buffer.count }

    /// The error that stopped this decoder, if any.
    public var error: WireError? { failure }

    /// Adds bytes received from the peer. Ignored after a failure.
    public mutating func append(_ bytes: some Collection<UInt8>) {
        guard failure == nil else { return }
        reclaimConsumedBytes()
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, or `nil` when more bytes are needed.
    public mutating func nextFrame() throws(WireError) -> PeerFrame? {
        if let failure { throw failure }
        let offset = start
        let limits = limits
        let decoded: (frame: PeerFrame, byteCount: Int)?
        do throws(WireError) {
            // `withUnsafeBytes` rethrows untyped errors; a `Result` keeps the error typed.
            decoded = try buffer.withUnsafeBytes { raw in
                Result { () throws(WireError) in
                    try Self.decodeFrame(in: UnsafeRawBufferPointer(rebasing: raw[offset...]), limits: limits)
                }
            }.get()
        } catch {
            failure = error
            throw error
        }
        guard let decoded else { return nil }
        start += decoded.byteCount
        return decoded.frame
    }

    /// Drops consumed bytes once they make up at least half the buffer, so copying stays
    /// amortised O(1) per byte and the buffer never grows beyond what is actually pending.
    private mutating func reclaimConsumedBytes() {
        guard start > 0 else { return }
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start * 2 >= buffer.count {
            buffer.removeSubrange(..<start)
            start = 0
        }
    }

    // MARK: Stateless decoding

    /// Decodes the frame at the start of `bytes`: the frame and the number of bytes it occupied,
    /// `nil` if `bytes` ends before the frame does, or an error as soon as the bytes present
    /// prove the frame bad.
    ///
    /// This is the whole decoding logic; ``FrameDecoder`` and the NIO handler both call it on
    /// their own buffers, in place.
    public static func decodeFrame(
        in bytes: UnsafeRawBufferPointer, limits: WireLimits
    ) throws(WireError) -> (frame: PeerFrame, byteCount: Int)? {
        guard bytes.count >= FrameLayout.lengthFieldSize else { return nil }
        let declared = UInt32(bigEndian: bytes.loadUnaligned(as: UInt32.self))
        guard declared >= FrameLayout.minimumLength else { throw .frameTooShort(declaredLength: declared) }
        guard UInt64(declared) <= UInt64(limits.maxFrameLength) else {
            throw .frameTooLarge(declaredLength: declared, limit: limits.maxFrameLength)
        }

        guard bytes.count > FrameLayout.versionOffset else { return nil }
        let version = bytes[FrameLayout.versionOffset]
        guard WireVersion.supported.contains(version) else { throw .unsupportedVersion(version) }

        guard bytes.count > FrameLayout.typeOffset else { return nil }
        let code = bytes[FrameLayout.typeOffset]
        guard let type = FrameType(rawValue: code), type.introducedIn <= version else { throw .unknownFrameType(code) }

        let total = FrameLayout.lengthFieldSize + Int(declared)
        guard bytes.count >= total else { return nil }
        let frame = UnsafeRawBufferPointer(rebasing: bytes[..<total])
        return (try FrameBodyDecoder.decode(frame: frame, type: type, version: version), total)
    }

    /// Decodes `bytes` as exactly one frame, as a simulator or test holding whole frames needs.
    public static func decode(_ bytes: [UInt8], limits: WireLimits = .default) throws(WireError) -> PeerFrame {
        let decoded = try bytes.withUnsafeBytes { raw in
            Result { () throws(WireError) in try decodeFrame(in: raw, limits: limits) }
        }.get()
        guard let decoded else {
            let needed = bytes.count >= FrameLayout.lengthFieldSize
                ? FrameLayout.lengthFieldSize + Int(UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16
                    | UInt32(bytes[2]) << 8 | UInt32(bytes[3]))
                : FrameLayout.headerLength
            throw .incompleteFrame(needed: needed, available: bytes.count)
        }
        guard decoded.byteCount == bytes.count else {
            throw .trailingBytes(
                decoded.frame.frameType, offset: decoded.byteCount, count: bytes.count - decoded.byteCount)
        }
        return decoded.frame
    }
}
