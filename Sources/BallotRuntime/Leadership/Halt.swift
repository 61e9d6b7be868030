/// Why a node stopped taking part in elections.
///
/// A node halts when it cannot make its term and vote durable: acting on state that a crash could
/// forget might let it vote twice in one term. It keeps serving its status so operators see why.
public struct Halt: Hashable, Sendable, CustomStringConvertible {
    public enum Reason: String, Hashable, Sendable, CaseIterable {
        /// Saving the hard state failed (write, fsync or rename).
        case stateWriteFailed = "state_write_failed"
    }

    public var reason: Reason
    /// The error as the store reported it, for logs and `/status`.
    public var detail: String

    public init(reason: Reason, detail: String) {
        self.reason = reason
        self.detail = detail
    }

    public var description: String { "\(reason.rawValue): \(detail)" }
}
