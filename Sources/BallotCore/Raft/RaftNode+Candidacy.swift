/// Issue 15: resignation, eligibility and preferred leaders.
///
/// Everything here runs in the core because it needs what only the leader's core knows, tick by
/// tick — each follower's latest acknowledgement, its log position and its reported candidacy —
/// and because it must compose with transfers, stickiness and the lease exactly as the simulator
/// checks them. The shell only passes requests in and keeps `eligible` on disk.
extension RaftNode {
    /// Whether this node may campaign or accept a transfer now: eligible, and not holding off after
    /// a resignation.
    var mayLead: Bool { candidacy.eligible && now >= holdOffUntil }

    /// What this node tells its leader in every acknowledgement.
    var reportedCandidacy: Candidacy { Candidacy(eligible: mayLead, priority: candidacy.priority) }

    public mutating func resign(holdOffTicks: UInt64) throws(TransferRefusal) -> [Action] {
        guard role == .leader else { throw .notLeader(knownLeader: leader) }
        pendingHoldOff = holdOffTicks
        if transfer != nil {
            // Already handing over: let it finish, and go even if it fails.
            transfer?.reason = .resignation
        } else if let target = successor {
            startTransfer(to: target, reason: .resignation)
        } else {
            stepDown(.resigned)
            becomeFollower(term: hardState.term, leader: nil)
        }
        return drainActions()
    }

    public mutating func setEligible(_ eligible: Bool) throws(CandidacyRefusal) -> [Action] {
        candidacy.eligible = eligible
        guard !eligible else { return drainActions() }
        switch role {
        case .follower:
            break
        case .preCandidate, .candidate:
            // A candidate may always fall back to follower in its term; its vote for itself stands.
            becomeFollower(term: hardState.term, leader: nil)
        case .leader:
            let now = self.now
            updateLeaderState { $0.handoverNotBefore = now }
            considerHandover()
        }
        return drainActions()
    }

    /// The follower to hand leadership to: among members that last reported themselves eligible
    /// (or have not reported yet) and were heard within the health gap, the highest priority, then
    /// the most up to date, then the most recently heard, then the lowest ID. `nil` if none.
    var successor: NodeID? {
        guard let state = leaderState else { return nil }
        let gap = configuration.healthGapTicks
        let candidates = peers.filter { peer in
            state.candidacy[peer]?.eligible != false && now - (state.lastHeard[peer] ?? 0) <= gap
        }
        return candidates.max { a, b in
            func key(_ peer: NodeID) -> (UInt16, UInt8, UInt64, UInt64) {
                (state.candidacy[peer]?.priority ?? 0, state.match[peer] == hardState.lastLog ? 1 : 0,
                 state.lastHeard[peer] ?? 0, UInt64.max - peer.rawValue)
            }
            return key(a) < key(b)
        }
    }

    /// Records what an acknowledgement says about its sender's health: a streak of eligible,
    /// caught-up answers with no gap longer than the health gap. A change of reported candidacy
    /// starts a new streak (a restarted member may come back with another priority).
    mutating func noteHealth(of peer: NodeID, _ response: HeartbeatResponse, previousContact: UInt64,
                             in state: inout LeaderState) {
        let healthy = response.candidacy.eligible && response.lastLog == hardState.lastLog
        let unchanged = state.candidacy[peer] == response.candidacy
        state.candidacy[peer] = response.candidacy
        guard healthy else {
            state.healthySince[peer] = nil
            return
        }
        if state.healthySince[peer] == nil || !unchanged || now - previousContact > configuration.healthGapTicks {
            state.healthySince[peer] = now
        }
    }

    /// Hands leadership over when this leader should not keep it, checked on heartbeat ticks:
    /// - made ineligible: to its successor, retrying two election timeouts after a failed attempt,
    ///   and never without one (an ineligible leader still beats no leader);
    /// - otherwise, preemption: to the member of highest priority above its own that has been
    ///   healthy (see ``noteHealth``) for the whole preemption window, while every member has been
    ///   answering within the health gap for that window too (so never while one is unreachable,
    ///   nor right after a partition heals), and at most once per window.
    mutating func considerHandover() {
        guard transfer == nil, var state = leaderState else { return }
        if !candidacy.eligible {
            guard now >= state.handoverNotBefore, let target = successor else { return }
            state.handoverNotBefore = now + 2 * configuration.electionTimeoutTicks
            roleState = .leader(state)
            startTransfer(to: target, reason: .ineligible)
            return
        }
        let gap = configuration.healthGapTicks
        let window = configuration.preemptAfterTicks
        guard peers.allSatisfy({ now - (state.lastHeard[$0] ?? 0) <= gap }) else {
            state.everyoneAnsweringSince = nil
            roleState = .leader(state)
            return
        }
        let since = state.everyoneAnsweringSince ?? now
        if state.everyoneAnsweringSince == nil {
            state.everyoneAnsweringSince = since
            roleState = .leader(state)
        }
        guard now >= state.preemptNotBefore, now - since >= window else { return }
        let preferred = peers.filter { peer in
            guard let since = state.healthySince[peer], let reported = state.candidacy[peer] else { return false }
            return reported.eligible && reported.priority > candidacy.priority && now - since >= window
        }
        guard let target = preferred.max(by: { a, b in
            (state.candidacy[a]!.priority, UInt64.max - a.rawValue) < (state.candidacy[b]!.priority, UInt64.max - b.rawValue)
        }) else { return }
        state.preemptNotBefore = now + window
        roleState = .leader(state)
        startTransfer(to: target, reason: .preemption)
    }
}
