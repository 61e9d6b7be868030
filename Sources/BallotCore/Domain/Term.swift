/// A Raft term: a logical epoch that at most one leader may own (Raft §5.1).
///
/// The term is also the fencing token handed to applications with every leadership grant.
public struct Term: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    public let rawValue: UInt64

    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt64) { self.rawValue = value }

    public static let zero = Term(0)
    /// The largest term; messages carrying it are ignored, so ``next`` never overflows.
    public static let maximum = Term(UInt64.max)
    public var next: Term { Term(rawValue + 1) }

    public static func < (lhs: Term, rhs: Term) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { String(rawValue) }
}
