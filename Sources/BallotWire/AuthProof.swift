/// The body of an `auth_proof` frame (type 0x03): the HMAC-SHA256 by which a side of a
/// connection shows it knows the cluster secret (auth method 1), computed by ``ClusterSecretProof``.
public struct AuthProof: Hashable, Sendable, CustomStringConvertible {
    /// The size of an HMAC-SHA256 output, and of every `auth_proof` body.
    public static let byteCount = 32

    public let bytes: [UInt8]

    /// `nil` unless `bytes` holds exactly ``byteCount`` bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    init(checked bytes: [UInt8]) {
        assert(bytes.count == Self.byteCount)
        self.bytes = bytes
    }

    public var description: String { bytes.map(hex).joined() }
}
