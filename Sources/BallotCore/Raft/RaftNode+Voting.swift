extension RaftNode {
    /// Thesis §9.6: would we vote for this candidate if it started an election? Never changes state.
    ///
    /// A refusal carries our own term, not the proposed one: the pre-candidate is one term behind
    /// the term it proposes, so a refusal in that term would look like news of a newer term and make
    /// it adopt a term nobody granted — exactly the disruption PreVote exists to prevent.
    mutating func handlePreVoteRequest(_ request: VoteRequest, from candidate: NodeID) {
        let grant = request.term > hardState.term
            && request.lastLog >= hardState.lastLog
            && !refusesVotes(to: candidate, isTransfer: request.isTransfer)
        let term = grant ? request.term : hardState.term
        send(.preVoteResponse(VoteResponse(term: term, granted: grant)), to: candidate)
    }

    /// Raft §5.2 and §5.4.1: one vote per term, only for a candidate at least as up to date as us.
    /// The vote is persisted before the response is sent.
    mutating func handleVoteRequest(_ request: VoteRequest, from candidate: NodeID) {
        // The prelude has moved us to the request's term if it was higher and not refused.
        guard request.term == hardState.term else { return }
        let canVote = hardState.votedFor == nil || hardState.votedFor == candidate
        // Stickiness was applied by the prelude to requests that raise the term; within one term it is
        // not needed, since a second leader of the same term is impossible anyway.
        let grant = canVote && request.lastLog >= hardState.lastLog
        if grant {
            if hardState.votedFor != candidate {
                hardState.votedFor = candidate
                persist()
            }
            resetElectionTimer()
        }
        send(.voteResponse(VoteResponse(term: hardState.term, granted: grant)), to: candidate)
    }
}
