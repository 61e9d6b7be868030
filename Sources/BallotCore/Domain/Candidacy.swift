/// Whether, and how much, a member wants to lead (issue 15).
///
/// An ineligible member never campaigns and never accepts a leadership transfer; it still votes, so
/// it counts towards every quorum. Among eligible members a leader prefers higher priorities: it
/// hands over to a member of higher priority once that member has been eligible, caught up and
/// answering for a whole preemption window (``RaftConfiguration/preemptAfterTicks``).
///
/// Followers report their candidacy to their leader in every heartbeat acknowledgement, so the
/// leader always acts on what each member says now; the shell keeps `eligible` across restarts.
public struct Candidacy: Hashable, Sendable, CustomStringConvertible {
    public var eligible: Bool
    /// Higher is preferred; 0, the default, is the lowest.
    public var priority: UInt16

    public init(eligible: Bool = true, priority: UInt16 = 0) {
        self.eligible = eligible
        self.priority = priority
    }

    /// Eligible, priority 0: what a member that says nothing (a version-1 peer) is taken to be.
    public static let `default` = Candidacy()

    public var description: String { "\(eligible ? "eligible" : "ineligible") priority=\(priority)" }
}
