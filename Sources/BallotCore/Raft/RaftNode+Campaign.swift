extension RaftNode {
    /// Starts a campaign: a pre-vote first when PreVote is on (thesis §9.6), straight to a real vote
    /// for a leadership transfer (thesis §3.10) or when PreVote is off (Raft §5.2).
    mutating func startCampaign(transfer isTransfer: Bool) {
        if configuration.preVote && !isTransfer {
            beginPhase(.preVote, isTransfer: false, startedAt: now)
        } else {
            beginPhase(.vote, isTransfer: isTransfer, startedAt: now)
        }
    }

    /// Opens one phase of a campaign and asks every peer for its (pre-)vote.
    private mutating func beginPhase(_ phase: CampaignPhase, isTransfer: Bool, startedAt: UInt64) {
        resetElectionTimer()
        let proposedTerm: Term
        let campaign = Campaign(phase: phase, startedAt: startedAt, isTransfer: isTransfer, granted: [id])
        switch phase {
        case .preVote:
            proposedTerm = hardState.term.next
            transition(to: .preCandidate(campaign))
        case .vote:
            hardState.term = hardState.term.next
            hardState.votedFor = id
            persist()
            followerView = FollowerView()
            proposedTerm = hardState.term
            transition(to: .candidate(campaign))
        }
        emit(.campaignStarted(phase, term: proposedTerm))

        let request = VoteRequest(term: proposedTerm, lastLog: hardState.lastLog, isTransfer: isTransfer)
        for peer in peers {
            send(phase == .preVote ? .preVoteRequest(request) : .voteRequest(request), to: peer)
        }
        evaluateCampaign()
    }

    /// Counts a (pre-)vote response for the phase in progress.
    mutating func handleVoteResponse(_ response: VoteResponse, from peer: NodeID, phase: CampaignPhase) {
        // A response for a phase we are not in (any more) is late, not impossible.
        guard var campaign, campaign.phase == phase else { return }
        if response.granted {
            let proposed = phase == .preVote ? hardState.term.next : hardState.term
            guard response.term == proposed else { return }
            campaign.granted.insert(peer)
        } else {
            // Refusals from voters ahead of us were handled by the prelude (we are no longer campaigning).
            guard response.term == hardState.term else { return }
            campaign.rejected.insert(peer)
        }
        roleState = phase == .preVote ? .preCandidate(campaign) : .candidate(campaign)
        evaluateCampaign()
    }

    /// Moves the campaign on once a quorum has decided it.
    private mutating func evaluateCampaign() {
        guard let campaign else {
            assertionFailure("evaluating a campaign while \(role)")
            return
        }
        switch membership.tally(granted: campaign.granted.count, rejected: campaign.rejected.count) {
        case .pending:
            return
        case .lost:
            becomeFollower(term: hardState.term, leader: nil)
        case .won:
            switch campaign.phase {
            case .preVote:
                beginPhase(.vote, isTransfer: false, startedAt: campaign.startedAt)
            case .vote:
                becomeLeader()
            }
        }
    }

    /// A split vote after a crash: another survivor asked for our vote in the term we are
    /// campaigning in, so neither of us can count on the other (and with the leader dead, often no
    /// one can win this term). Both campaign again in their rank-ordered slots (see
    /// ``slotDelay(after:)``, at least one tick away) instead of after a randomized timeout of T to
    /// 2T; the first one's new term then reaches the other before its slot. Only the timer moves —
    /// the campaign in progress may still win — and only once per evidence, so it cannot repeat.
    mutating func noticeCompetingCandidate(in term: Term) {
        guard term == hardState.term, let campaign, campaign.phase == .vote, !campaign.isTransfer,
              let gone = goneLeader, !quickRetryUsed, mayLead
        else { return }
        quickRetryUsed = true
        randomizedElectionTimeout = min(randomizedElectionTimeout, electionElapsed + max(1, slotDelay(after: gone)))
    }

    /// Reports how the campaign ended and how long it took (for election metrics); the caller then
    /// leaves the campaigning role.
    mutating func finishCampaign(_ campaign: Campaign, _ outcome: CampaignOutcome) {
        emit(.campaignFinished(outcome, ticks: now - campaign.startedAt))
    }

    /// The leader asked us to campaign now (thesis §3.10); an ineligible or holding-off node
    /// declines (issue 15), and the leader's transfer times out.
    ///
    /// Obeyed only while the leader's newest heartbeat names this node as the transfer target. A
    /// TimeoutNow delayed past the transfer's timeout would otherwise start a campaign after this
    /// node had acknowledged the heartbeat withdrawing the transfer — an acknowledgement that counts
    /// toward the leader's resumed lease — and voters that missed the withdrawal would waive
    /// stickiness for it, electing a second lease holder (simulator seed 2011711). One that
    /// overtook its announcement is kept until a heartbeat naming this node arrives.
    mutating func handleTimeoutNow(from peer: NodeID) {
        guard role == .follower, leader == peer, mayLead else { return }
        guard followerView.announcedTransferTarget == id else {
            followerView.timeoutNowAwaitsAnnouncement = true
            return
        }
        startCampaign(transfer: true)
    }
}
