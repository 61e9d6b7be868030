/// Released hand-overs (issue 15).
///
/// Lease succession makes a new lease wait until every earlier published deadline ran out, since a
/// holder of the old lease (a sidecar's child, a `whileLeader` body) may act until it. When the old
/// leader *knows* its holders stopped — the shell confirmed it, see ``leaseReleased(term:)`` — that
/// wait protects nobody: the old leader tells its peers, and each takes that leadership's promise
/// out of its succession bound. Only that leadership's: promises to earlier ones still count, so the
/// property the simulator checks ("no lease begins while an earlier lease's holders may still act")
/// is unchanged. A crashed leader releases nothing; its successor still waits out its deadline.
extension RaftNode {
    public mutating func leaseReleased(term: Term) -> [Action] {
        guard configuration.leaderStickiness, ledTerm == term else { return [] }
        let own = LeaderInfo(id: id, term: term)
        guard releasedLeadership != own else { return [] }  // Already released and announced.
        if role == .leader, hardState.term == term {
            // A leader may renew its lease unless it is handing over; only then may it give it up.
            guard transfer != nil else { return [] }
            updateLeaderState { $0.leaseReleased = true }
        }
        release(own)
        for peer in peers { send(.leaseReleased(LeaseReleased(term: term)), to: peer) }
        return drainActions()
    }

    /// A peer's release of its lease in `term`.
    mutating func handleLeaseReleased(_ released: LeaseReleased, from peer: NodeID) {
        guard configuration.leaderStickiness else { return }
        release(LeaderInfo(id: peer, term: released.term))
    }

    /// Takes `leadership`'s promise out of the succession bound: out of the last fold if it was
    /// folded there, else marked so the coming fold skips it. Then a leader whose lease waited only
    /// for it may begin at once, and a follower credits its current leader right away.
    private mutating func release(_ leadership: LeaderInfo) {
        if let fold = releasableFold, fold.leadership == leadership {
            successionClearAt = fold.clearAtBefore
            releasableFold = nil
        } else if promisedTo == leadership || leadership.id == id {
            releasedLeadership = leadership
        } else {
            return  // Folded under a later promise, or never made: nothing this node can take back.
        }
        switch roleState {
        case .leader(var state):
            // A leader's lease waits exactly for its succession bound (see `becomeLeader`).
            state.leaseNotBefore = successionClearAt
            roleState = .leader(state)
        case .follower:
            creditNewestHeartbeatIfClear()
        default:
            break
        }
    }

    /// A follower whose newest acknowledgement withheld lease credit gives it once its succession
    /// bound has passed (or was released), so the new leader's lease begins then rather than a
    /// heartbeat later: after a crash, the successor's lease waits the promise and not a round more.
    mutating func creditNewestHeartbeatIfClear() {
        guard now >= successionClearAt, let leader = withheldCreditLeader else { return }
        followerView.creditWithheld = false
        send(.heartbeatResponse(HeartbeatResponse(
            term: hardState.term, sequence: followerView.newestSequence, lastLog: hardState.lastLog,
            candidacy: reportedCandidacy)), to: leader)
    }

    /// The leader owed a withheld credit, while this node still follows it in that leadership:
    /// only the succession bound stands between them (``ticksUntilTimer`` wakes for it).
    var withheldCreditLeader: NodeID? {
        guard followerView.creditWithheld, case .follower(let current?) = roleState,
              promisedTo == LeaderInfo(id: current, term: hardState.term), followerView.newestSequence > 0
        else { return nil }
        return current
    }

    /// Records that the promise to `leadership`, running until `until`, now binds succession.
    /// Folding one leadership twice (a leader's own lease at step-down, then its old promise when
    /// it follows again) keeps the value from before the first.
    mutating func fold(_ leadership: LeaderInfo, until: UInt64) {
        let before = releasableFold?.leadership == leadership ? releasableFold!.clearAtBefore : successionClearAt
        releasableFold = ReleasableFold(leadership: leadership, clearAtBefore: before)
        successionClearAt = max(successionClearAt, until)
    }
}
