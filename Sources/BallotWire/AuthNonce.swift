/// The fresh random challenge each side puts in its handshake under auth method 1.
///
/// The peer's proof must cover this side's nonce, which did not exist before this connection,
/// so a proof recorded from any earlier connection is worthless here.
public struct AuthNonce: Hashable, Sendable, CustomStringConvertible {
    /// 256 bits: collisions between two connections are out of reach for any number of them.
    public static let byteCount = 32

    public let bytes: [UInt8]

    /// `nil` unless `bytes` holds exactly ``byteCount`` bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    /// A nonce drawn from `generator`; tests pass a seeded one to get fixed bytes.
    public static func random(using generator: inout some RandomNumberGenerator) -> AuthNonce {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(byteCount)
        for _ in 0..<(byteCount / 8) {
            withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) }
        }
        return AuthNonce(bytes: bytes)!
    }

    /// A nonce from the system's cryptographically secure generator (`getrandom` on Linux).
    public static func random() -> AuthNonce {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    public var description: String { bytes.map(hex).joined() }
}
