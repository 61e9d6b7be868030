/// The `err` of a ``ReplyHeader`` (`KeeperException.Code`). A server may add codes, so any value
/// is representable; the ones this client acts on are named.
public struct ZooKeeperErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32

    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let ok = Self(rawValue: 0)
    public static let systemError = Self(rawValue: -1)
    public static let runtimeInconsistency = Self(rawValue: -2)
    public static let dataInconsistency = Self(rawValue: -3)
    public static let connectionLoss = Self(rawValue: -4)
    public static let marshallingError = Self(rawValue: -5)
    public static let unimplemented = Self(rawValue: -6)
    public static let operationTimeout = Self(rawValue: -7)
    /// Invalid arguments, e.g. an invalid path or create flags.
    public static let badArguments = Self(rawValue: -8)
    public static let unknownSession = Self(rawValue: -12)
    public static let apiError = Self(rawValue: -100)
    /// The node does not exist (or, for create, its parent does not).
    public static let noNode = Self(rawValue: -101)
    public static let noAuth = Self(rawValue: -102)
    /// A delete's expected version did not match.
    public static let badVersion = Self(rawValue: -103)
    /// Create under an ephemeral node: ephemeral nodes have no children.
    public static let noChildrenForEphemerals = Self(rawValue: -108)
    /// Create of a node that exists.
    public static let nodeExists = Self(rawValue: -110)
    /// Delete of a node that has children.
    public static let notEmpty = Self(rawValue: -111)
    public static let sessionExpired = Self(rawValue: -112)
    public static let invalidCallback = Self(rawValue: -113)
    /// Create with an ACL the server refuses (e.g. an empty one).
    public static let invalidACL = Self(rawValue: -114)
    public static let authFailed = Self(rawValue: -115)
    public static let sessionMoved = Self(rawValue: -118)
    public static let notReadOnly = Self(rawValue: -119)
    public static let ephemeralOnLocalSession = Self(rawValue: -120)
    public static let noWatcher = Self(rawValue: -121)
    public static let reconfigDisabled = Self(rawValue: -123)
    public static let quotaExceeded = Self(rawValue: -125)
    public static let throttledOperation = Self(rawValue: -127)

    private static let names: [Int32: String] = [
        0: "ok", -1: "systemError", -2: "runtimeInconsistency", -3: "dataInconsistency", -4: "connectionLoss",
        -5: "marshallingError", -6: "unimplemented", -7: "operationTimeout", -8: "badArguments",
        -12: "unknownSession", -100: "apiError", -101: "noNode", -102: "noAuth", -103: "badVersion",
        -108: "noChildrenForEphemerals", -110: "nodeExists", -111: "notEmpty", -112: "sessionExpired",
        -113: "invalidCallback", -114: "invalidACL", -115: "authFailed", -118: "sessionMoved",
        -119: "notReadOnly", -120: "ephemeralOnLocalSession", -121: "noWatcher", -123: "reconfigDisabled",
        -125: "quotaExceeded", -127: "throttledOperation",
    ]

    public var description: String { "\(Self.names[rawValue] ?? "error") (\(rawValue))" }
}
