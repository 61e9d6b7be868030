/// The name of the cluster a node belongs to. Nodes refuse peers and state files of another
/// cluster, so two clusters on one network, or a data directory copied between clusters, cannot
/// mix.
///
/// 1–255 bytes of `A–Z a–z 0–9 . _ -`: short enough for a one-byte length prefix on the wire and
/// in the state file, plain enough for file names, metric labels and logs.
public struct ClusterName: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public static let maximumLength = 255
    public static let `default` = ClusterName(validated: "ballot")

    public init(_ text: String) throws(ConfigurationError) {
        guard !text.isEmpty else { throw .invalidClusterName(text, .empty) }
        guard text.utf8.count <= Self.maximumLength else {
            throw .invalidClusterName(text, .tooLong(bytes: text.utf8.count))
        }
        if let bad = text.first(where: { !Self.isAllowed($0) }) {
            throw .invalidClusterName(text, .invalidCharacter(bad))
        }
        self.rawValue = text
    }

    private init(validated text: String) { rawValue = text }

    private static func isAllowed(_ character: Character) -> Bool {
        guard character.isASCII, let byte = character.asciiValue else { return false }
        return byte.isASCIIDigit || byte.isASCIILetter || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: "-")
    }

    public var description: String { rawValue }
}
