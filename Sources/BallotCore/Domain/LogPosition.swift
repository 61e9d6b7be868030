/// The index and term of the last entry in a node's log.
///
/// Ballot's log holds only what elections need: each new leader appends one no-op entry in its
/// term (Raft §8), and heartbeats carry it to followers. That is enough for the vote request to
/// carry `lastLogIndex`/`lastLogTerm` and for the election restriction (§5.4.1) to mean something.
public struct LogPosition: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var index: UInt64
    public var term: Term

    public init(index: UInt64, term: Term) {
        self.index = index
        self.term = term
    }

    public static let empty = LogPosition(index: 0, term: .zero)

    /// Raft §5.4.1: the later last term wins; with equal terms, the longer log wins.
    public static func < (lhs: LogPosition, rhs: LogPosition) -> Bool {
        (lhs.term, lhs.index) < (rhs.term, rhs.index)
    }

    public var description: String { "\(index)@\(term)" }
}
