/// This node's leader lease as a deadline on its monotonic clock.
///
/// A Raft leader holds one while a quorum has promised, through leader stickiness, not to help
/// elect anyone else before the deadline (docs/architecture.md, "The leader lease"). Bully and Ring
/// have no quorum, so their coordinator's lease is ``unbounded``, as is a one-node Raft cluster's.
public enum Lease: Hashable, Sendable {
    case none
    /// Valid while the clock reads before this instant.
    case until(MonotonicInstant)
    case unbounded

    /// **The** test of whether a lease is valid at `now`; everything that reports leadership asks it.
    public func isValid(at now: MonotonicInstant) -> Bool {
        switch self {
        case .none: false
        case .until(let deadline): now < deadline
        case .unbounded: true
        }
    }

    /// The time left at `now`; `nil` without a valid lease, `.zero`-free for an unbounded one.
    public func remaining(at now: MonotonicInstant) -> Duration? {
        switch self {
        case .none: nil
        case .until(let deadline): now < deadline ? deadline - now : nil
        case .unbounded: .seconds(Int64.max)
        }
    }

    /// The deadline, if the lease has one.
    public var deadline: MonotonicInstant? {
        if case .until(let deadline) = self { return deadline }
        return nil
    }
}
