/// A broken safety or liveness property, with the virtual time it was detected.
public struct Violation: Hashable, Sendable, CustomStringConvertible {
    public enum Property: String, Hashable, Sendable, CaseIterable {
        /// Raft §5.2: at most one leader per term.
        case electionSafety = "election-safety"
        /// Raft §5.1: a node's term never decreases, across restarts too.
        case termMonotonicity = "term-monotonicity"
        /// Raft §5.2: at most one vote per term, across restarts too.
        case singleVote = "single-vote"
        /// Raft Figure 2: a vote leaves the node only after it is durable.
        case persistBeforeSend = "persist-before-send"
        /// At most one node holds a valid leader lease at any instant.
        case leaseExclusivity = "lease-exclusivity"
        /// A lease begins only after every other node's lease has run to the deadline it last
        /// published, even if that holder crashed or stepped down first: what a process that
        /// outlives its node's notice (the sidecar's CMD, killed by its keeper at that deadline)
        /// relies on for "never two at once".
        case leaseSuccession = "lease-succession"
        /// After faults heal, a leader known to every node emerges within the bound.
        case liveness
        /// The ticks a core called quiet (`ticksUntilTimer`) were quiet: a shell that sleeps
        /// through them misses nothing.
        case timerPromise = "timer-promise"
        /// Issue 15: preemptions (hand-overs to a higher priority) are a window apart: no flapping.
        case preemptionCadence = "preemption-cadence"
        /// Issue 15: a preemption goes to a member of strictly higher priority.
        case preemptionUpward = "preemption-upward"
        /// Issue 15: no preemption while a member is unreachable.
        case preemptionWhileUnreachable = "preemption-while-unreachable"
    }

    public var time: VirtualTime
    public var property: Property
    public var detail: String

    public var description: String { "\(time) \(property.rawValue): \(detail)" }
}
