/// An access-control entry: permissions for an identity (`scheme:id`).
public struct ACL: Hashable, Sendable {
    public var permissions: Permissions
    public var scheme: String
    public var id: String

    public init(permissions: Permissions, scheme: String, id: String) {
        self.permissions = permissions
        self.scheme = scheme
        self.id = id
    }

    /// `world:anyone` with every permission (`ZooDefs.Ids.OPEN_ACL_UNSAFE`): election nodes carry
    /// no secrets, and whoever can reach the ensemble is trusted with them.
    public static let openUnsafe: [ACL] = [ACL(permissions: .all, scheme: "world", id: "anyone")]

    func encode(into writer: inout JuteWriter) {
        writer.writeInt(permissions.rawValue)
        writer.writeString(scheme)
        writer.writeString(id)
    }

    /// The permission bits of an ``ACL``.
    public struct Permissions: OptionSet, Hashable, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public static let read = Permissions(rawValue: 1)
        public static let write = Permissions(rawValue: 2)
        public static let create = Permissions(rawValue: 4)
        public static let delete = Permissions(rawValue: 8)
        public static let admin = Permissions(rawValue: 16)
        public static let all: Permissions = [.read, .write, .create, .delete, .admin]
    }
}
