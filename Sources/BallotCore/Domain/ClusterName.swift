/// The name of the cluster a node belongs to. Nodes refuse peers and state files of another
/// cluster, so two clusters on one network, or a data directory copied between clusters, cannot mix.
///
/// 1–255 bytes of `A–Z a–z 0–9 . _ -`: short enough for a one-byte length prefix on the wire and
/// in the state file, plain enough for file names, metric labels and logs.
public struct ClusterName: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public static let maximumLength = 255
    public static let `default` = ClusterName(validated: "ballot")

    public init(_ text: String) throws(ClusterNameProblem) {
        guard !text.isEmpty else { throw .empty }
        guard text.utf8.count <= Self.maximumLength else { throw .tooLong(bytes: text.utf8.count) }
        if let bad = text.first(where: { !Self.isAllowed($0) }) { throw .invalidCharacter(bad) }
        self.rawValue = text
    }

    private init(validated text: String) { rawValue = text }

    private static func isAllowed(_ character: Character) -> Bool {
        guard character.isASCII, let byte = character.asciiValue else { return false }
        return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    /// Its length in UTF-8 bytes, as written on the wire and in the state file.
    public var byteCount: Int { rawValue.utf8.count }

    public var description: String { rawValue }
}

/// Why a text is not a valid ``ClusterName``.
public enum ClusterNameProblem: Error, Hashable, Sendable, CustomStringConvertible {
    case empty
    case tooLong(bytes: Int)
    case invalidCharacter(Character)

    public var description: String {
        switch self {
        case .empty: "a cluster name cannot be empty; omit the setting to use \"\(ClusterName.default)\""
        case .tooLong(let bytes): "\(bytes) bytes is too long; use at most \(ClusterName.maximumLength)"
        case .invalidCharacter(let character):
            "character \"\(character)\" is not allowed; use letters A–Z and a–z, digits, '.', '_' and '-'"
        }
    }
}
