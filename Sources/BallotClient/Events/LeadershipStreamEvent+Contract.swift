/// The names the `/events` contract (docs/applications.md) gives to event types and JSON keys, defined
/// once: the node's encoder (BallotServer) writes them and ``LeadershipStreamEvent`` reads them, so
/// the two sides cannot drift apart.
extension LeadershipStreamEvent {
    /// The SSE `event:` field.
    public enum Kind: String, Sendable, CaseIterable {
        case state, elected, lost, lease
    }

    /// Every key of an event's `data` object.
    public enum Key: String, CodingKey, Sendable, CaseIterable {
        // Every event.
        case node, term, index, leader
        case isLeader = "is_leader"
        case monoNs = "mono_ns"
        // `state`.
        case leaseUntilMonoNs = "lease_until_mono_ns"
        case leaseUnbounded = "lease_unbounded"
        // `elected`.
        case isSelf = "is_self"
        case leaderlessMs = "leaderless_ms"
        // `lost`.
        case previous
        // `lease`.
        case fromMonoNs = "from_mono_ns"
        case untilMonoNs = "until_mono_ns"
        case ends
    }
}
