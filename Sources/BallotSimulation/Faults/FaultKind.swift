/// The faults a simulated schedule can inject. Every fault is undone when the schedule heals.
public enum FaultKind: String, Hashable, Sendable, CaseIterable {
    /// Crash-stop: volatile state is lost, durable state survives, the node restarts later.
    case crash
    /// The process freezes (like SIGSTOP or a long GC pause): no ticks, messages queue up.
    case pause
    /// The cluster splits into two groups that cannot talk.
    case partition
    /// Messages flow one way only between two groups.
    case asymmetric
    /// Two groups cannot talk, but one node sees both sides.
    case bridge
    /// A burst of heavy message loss.
    case loss
    /// A burst of message duplication.
    case duplicate
    /// A burst of long delays, which also reorders messages.
    case delay
    /// The leader is asked to hand leadership to a random member.
    case transfer
    /// The connection between two nodes breaks and is re-established at once (messages in flight
    /// are lost). Reconnecting succeeds, so no shell reports the peer's process gone.
    case flap
    /// A node's disk fails its writes (a failed write or fsync). The node halts at its next
    /// persist, exactly as the server does, and is restarted when the fault heals (as a supervisor
    /// restarts a process whose health check fails).
    case disk
    /// Issue 15: the leader resigns (`POST /resign`) with a random hold-off. Opt-in (not in
    /// ``standard``).
    case resign
    /// Issue 15: a node is made ineligible (`PUT /candidacy`), and eligible again when the fault
    /// heals; it keeps the setting across a crash, as its data directory would. Opt-in.
    case candidacy

    /// The faults a schedule injects unless told otherwise: all but issue 15's operator actions,
    /// so that default schedules (and the regression seeds) keep the histories they always had.
    public static let standard: Set<FaultKind> = Set(allCases).subtracting([.resign, .candidacy])
}
