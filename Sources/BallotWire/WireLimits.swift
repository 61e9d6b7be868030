/// Bounds that protect a node from what a peer sends it.
///
/// Every limit is checked against the length a peer *declares* before a single byte of the
/// declared content is buffered or allocated, so a hostile length prefix costs nothing.
public struct WireLimits: Hashable, Sendable, CustomStringConvertible {
    /// The largest value the 4-byte length prefix may hold: the bytes after the prefix
    /// (version, type and body). Frames declaring more are rejected as `oversized`.
    public let maxFrameLength: Int

    /// 64 KiB: far above any version-1 frame, far below anything that could hurt a node.
    public static let defaultMaxFrameLength = 65_536
    /// The smallest permitted limit: the largest frame version 1 can need (a handshake with the
    /// longest cluster name and the largest auth payload), so a valid peer is never refused.
    public static let minimumMaxFrameLength = FrameLayout.headerLength - FrameLayout.lengthFieldSize
        + Handshake.maximumBodyLength
    /// The largest permitted limit, 16 MiB: a bound on what one connection can make a node buffer.
    public static let maximumMaxFrameLength = 16 * 1_048_576

    public static let `default` = WireLimits(checkedMaxFrameLength: defaultMaxFrameLength)

    /// A limit chosen by an operator; refuses values that would reject valid peers or allow
    /// unreasonable buffering.
    public init(maxFrameLength: Int) throws(WireLimitsError) {
        let allowed = Self.minimumMaxFrameLength...Self.maximumMaxFrameLength
        guard allowed.contains(maxFrameLength) else {
            throw WireLimitsError(maxFrameLength: maxFrameLength, allowed: allowed)
        }
        self.maxFrameLength = maxFrameLength
    }

    private init(checkedMaxFrameLength: Int) { self.maxFrameLength = checkedMaxFrameLength }

    public var description: String { "max frame length \(maxFrameLength) bytes" }
}

/// A ``WireLimits`` value outside the range the protocol can work with.
public struct WireLimitsError: Error, Hashable, Sendable, CustomStringConvertible {
    public let maxFrameLength: Int
    public let allowed: ClosedRange<Int>

    public var description: String {
        "max frame length \(maxFrameLength) is outside \(allowed.lowerBound)...\(allowed.upperBound): "
            + "below \(allowed.lowerBound) a valid handshake could be refused; "
            + "above \(allowed.upperBound) one peer could make the node buffer too much"
    }
}
