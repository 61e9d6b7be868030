/// The secret every member of a cluster shares for auth method 1, as raw bytes.
///
/// A value that never shows itself: `description`, `debugDescription`, string interpolation,
/// `dump` and the mirror all print `ClusterSecret(redacted)`, so a secret that ends up in a log
/// line, an error or a crash report reveals nothing. Two secrets compare in constant time.
public struct ClusterSecret: Sendable {
    /// 256 bits: the key length of HMAC-SHA256's security level, and what `openssl rand 32` gives.
    public static let minimumByteCount = 32
    /// A bound so that a wrong file (a log, an image) is refused rather than used as a key.
    public static let maximumByteCount = 1024

    let bytes: [UInt8]

    /// Takes `bytes` as the secret; refuses fewer than ``minimumByteCount`` or more than
    /// ``maximumByteCount`` bytes.
    public init(bytes: [UInt8]) throws(ClusterSecretError) {
        guard bytes.count >= Self.minimumByteCount else { throw .tooShort(byteCount: bytes.count) }
        guard bytes.count <= Self.maximumByteCount else { throw .tooLong(byteCount: bytes.count) }
        self.bytes = bytes
    }
}

extension ClusterSecret: Hashable {
    /// Constant time in the bytes' content: the loop never stops at the first difference.
    public static func == (lhs: ClusterSecret, rhs: ClusterSecret) -> Bool {
        constantTimeEquals(lhs.bytes, rhs.bytes)
    }

    /// Only the length goes into the hash: equal secrets have equal lengths, and a hash value
    /// derived from the bytes is nothing a secret should be fed into.
    public func hash(into hasher: inout Hasher) { hasher.combine(bytes.count) }
}

extension ClusterSecret: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "ClusterSecret(redacted)" }
    public var debugDescription: String { description }
    /// No children: `dump` and debuggers see the redacted description, never the bytes.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}

/// A cluster secret that cannot be used, and what to do about it.
public enum ClusterSecretError: Error, Hashable, Sendable, CustomStringConvertible {
    case tooShort(byteCount: Int)
    case tooLong(byteCount: Int)

    public var description: String {
        switch self {
        case .tooShort(let count):
            "the cluster secret has \(count) bytes; it needs at least \(ClusterSecret.minimumByteCount) "
                + "random bytes (e.g. `openssl rand -out cluster.secret 32`, the same file on every member)"
        case .tooLong(let count):
            "the cluster secret has \(count) bytes, more than \(ClusterSecret.maximumByteCount); "
                + "is this the right file? 32 random bytes are enough (`openssl rand -out cluster.secret 32`)"
        }
    }
}

/// Whether two byte sequences are equal, in time that depends only on their lengths.
///
/// Every byte pair is looked at, and differences are OR-ed together, so the time taken tells
/// nothing about where (or whether) the first difference is.
func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
    return difference == 0
}
