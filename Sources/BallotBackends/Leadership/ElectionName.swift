/// The name of one election on a coordination service; several elections share one etcd or
/// ZooKeeper cluster under different names (`--election`).
///
/// 1–128 characters from `A–Z a–z 0–9 . _ -`, not `.` or `..`: it becomes one path component in
/// ZooKeeper (`/ballot/elections/NAME`) and one key segment in etcd (`/ballot/elections/NAME/…`),
/// so it must need no escaping in either.
public struct ElectionName: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public static let maximumLength = 128
    public static let `default` = ElectionName(unchecked: "ballot")

    private init(unchecked: String) { rawValue = unchecked }

    public init(_ text: String) throws(ElectionNameProblem) {
        guard !text.isEmpty else { throw .empty }
        guard text.utf8.count <= Self.maximumLength else { throw .tooLong(text.utf8.count) }
        guard text != ".", text != ".." else { throw .dotName }
        if let bad = text.unicodeScalars.first(where: { !Self.allowed($0) }) {
            throw .invalidCharacter(Character(bad))
        }
        rawValue = text
    }

    private static func allowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-": true
        default: false
        }
    }

    public var description: String { rawValue }

    /// The ZooKeeper node under which candidates create their sequential nodes.
    public var zooKeeperPath: String { "/ballot/elections/\(rawValue)" }

    /// The etcd key prefix of the candidates' keys (each `prefix + lease ID in hex`), the layout of
    /// etcd's own election API, so `etcdctl elect --listen /ballot/elections/NAME` observes it.
    public var etcdPrefix: String { "/ballot/elections/\(rawValue)/" }
}

/// What is wrong with an election name.
public enum ElectionNameProblem: Error, Hashable, Sendable, CustomStringConvertible {
    case empty
    case tooLong(Int)
    case dotName
    case invalidCharacter(Character)

    public var description: String {
        switch self {
        case .empty: "an election name cannot be empty"
        case .tooLong(let count): "an election name has at most \(ElectionName.maximumLength) bytes, not \(count)"
        case .dotName: "an election name cannot be . or .."
        case .invalidCharacter(let character):
            "an election name uses only letters, digits, '.', '_' and '-'; \(String(reflecting: String(character))) is not allowed"
        }
    }
}
