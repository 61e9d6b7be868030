/// A cluster member's identity: a positive integer, stable across restarts.
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    public let rawValue: UInt64

    /// Node IDs are positive; zero is reserved on the wire for "no node".
    public init?(_ rawValue: UInt64) {
        guard rawValue > 0 else { return nil }
        self.rawValue = rawValue
    }

    public init(integerLiteral value: UInt64) {
        precondition(value > 0, "NodeID must be positive")
        self.rawValue = value
    }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}
