import BallotCore

/// Who acts under this node's lease, and whether all of them have stopped (issue 15, released
/// hand-overs).
///
/// A holder is anything that does leader-only work on the strength of this node's lease and
/// promises to stop when told: a `whileLeader` body, a `ballot run` sidecar connected with a holder
/// name. When a lease ends and every holder confirmed it stopped, the node may *release* the lease
/// (``ElectionAlgorithm/leaseReleased(term:)``) so that its successor's lease begins at once instead
/// of after the published deadline. A holder that goes away without confirming (a sidecar killed or
/// cut off) may still act until the deadline it last saw, so it blocks releases until then.
///
/// Kept inside ``LeadershipView`` under the same lock as the lease announcements, so a confirmation
/// can never count for a lease announced after it.
struct LeaseHolders: Sendable {
    private struct Holder: Sendable {
        /// The view index up to which this holder has stopped acting under every lease announced.
        var stoppedThrough: UInt64
    }

    private var holders: [Int: Holder] = [:]
    private var nextKey = 0
    /// The deadlines until which holders that left without confirming may act.
    private var vanished: [MonotonicInstant] = []
    /// The last lease that ended: its term and the view index of its end.
    private var lastEnd: (term: Term, index: UInt64)?
    /// The end index whose release the producer has carried out.
    private var releasedEnd: UInt64?
    /// The latest deadline announced, for a holder that vanishes after the lease ended; `nil` for a
    /// lease without end (a cluster of one, Bully, Ring), which has no successor to release to.
    private var lastDeadline: MonotonicInstant?

    var count: Int { holders.count }

    mutating func register(at index: UInt64) -> Int {
        let key = nextKey
        nextKey += 1
        holders[key] = Holder(stoppedThrough: index)
        return key
    }

    /// Records that holder `key` stopped acting under every lease announced up to `index`.
    /// Returns false for an unknown holder.
    mutating func stopped(_ key: Int, through index: UInt64) -> Bool {
        guard var holder = holders[key] else { return false }
        holder.stoppedThrough = max(holder.stoppedThrough, index)
        holders[key] = holder
        return true
    }

    /// Forgets holder `key`: one that `stopped` acts no more; one that did not may act until the
    /// deadline it last saw, if a lease is held now or ended after it last confirmed.
    mutating func unregister(_ key: Int, stopped: Bool, leaseHeld: Bool) {
        guard let holder = holders.removeValue(forKey: key), !stopped, let lastDeadline else { return }
        if leaseHeld || holder.stoppedThrough < lastEnd?.index ?? 0 { vanished.append(lastDeadline) }
    }

    /// The lease moved (began or was extended) to `deadline`.
    mutating func leaseAnnounced(until deadline: MonotonicInstant?) {
        lastDeadline = deadline
    }

    /// The lease of `term` ended with view index `index`.
    mutating func leaseEnded(term: Term, index: UInt64) {
        lastEnd = (term, index)
    }

    /// The term of the lease that ended last, if every holder has stopped under it, every vanished
    /// holder's deadline passed, and it was not released yet; the caller checks no lease is held.
    mutating func releasable(at now: MonotonicInstant) -> Term? {
        vanished.removeAll { $0 <= now }
        guard let lastEnd, releasedEnd != lastEnd.index, vanished.isEmpty,
              holders.values.allSatisfy({ $0.stoppedThrough >= lastEnd.index })
        else { return nil }
        return lastEnd.term
    }

    /// The producer released the lease that ended last.
    mutating func released() {
        releasedEnd = lastEnd?.index
    }
}
