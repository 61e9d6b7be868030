import BallotCore

/// Matches heartbeat acknowledgements to the instants their heartbeats left, per peer, for the
/// round-trip histogram and `/status`; heartbeats unanswered for an election timeout count as failed.
struct RoundTripTracker {
    private struct InFlight {
        let term: Term
        let sequence: UInt64
        let sentAt: MonotonicInstant
    }

    private var inFlight: [NodeID: [InFlight]] = [:]
    /// The most recent round trip to each peer.
    private(set) var last: [NodeID: Duration] = [:]

    /// Notes a heartbeat handed to the network; returns how many older ones to `peer` went
    /// unanswered for longer than `expiry` (now counted as failed).
    mutating func sent(_ heartbeat: Heartbeat, to peer: NodeID, at now: MonotonicInstant, expiry: Duration) -> Int {
        var pending = inFlight[peer, default: []]
        let expired = pending.prefix { now - $0.sentAt > expiry }.count
        pending.removeFirst(expired)
        pending.append(InFlight(term: heartbeat.term, sequence: heartbeat.sequence, sentAt: now))
        inFlight[peer] = pending
        return expired
    }

    /// The round trip of the heartbeat `response` acknowledges, if it is one still awaited; older
    /// ones to the same peer are settled with it.
    mutating func acknowledged(_ response: HeartbeatResponse, from peer: NodeID, at now: MonotonicInstant) -> Duration? {
        guard var pending = inFlight[peer],
              let index = pending.firstIndex(where: { $0.sequence == response.sequence && $0.term == response.term })
        else { return nil }
        let roundTrip = now - pending[index].sentAt
        pending.removeFirst(index + 1)
        inFlight[peer] = pending
        last[peer] = roundTrip
        return roundTrip
    }
}
