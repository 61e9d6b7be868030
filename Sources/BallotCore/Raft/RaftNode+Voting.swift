extension RaftNode {
    /// Thesis §9.6: would we vote for this candidate if it started an election? Never changes state.
    mutating func handlePreVoteRequest(_ request: VoteRequest, from candidate: NodeID) {
        let grant = request.term > hardState.term
            && request.lastLog >= hardState.lastLog
            && !refusesVotes(to: candidate, isTransfer: request.isTransfer)
        // A grant carries the proposed term; a refusal our own, so a candidate behind us catches up
        // and one at our term counts the refusal, without anyone adopting a term that was only proposed.
        let term = grant ? request.term : hardState.term
        send(.preVoteResponse(VoteResponse(term: term, granted: grant)), to: candidate)
    }

    /// Raft §5.2 and §5.4.1: one vote per term, only for a candidate at least as up to date as us.
    /// The vote is persisted before the response is sent.
    mutating func handleVoteRequest(_ request: VoteRequest, from candidate: NodeID, stickinessChecked: Bool) {
        // The prelude has moved us to the request's term if it was higher and not refused.
        guard request.term == hardState.term else { return }
        let canVote = hardState.votedFor == nil || hardState.votedFor == candidate
        // Stickiness applies within a term too: a node can reach the candidate's term without a vote
        // request (say, from a pre-vote refusal) while its promise to the old leader still runs, and
        // granting then would let a new leader rise inside that leader's lease (simulator seed
        // 2003794, three nodes).
        let grant = canVote && request.lastLog >= hardState.lastLog
            && (stickinessChecked || !refusesVotes(to: candidate, isTransfer: request.isTransfer))
        if grant {
            if hardState.votedFor != candidate {
                hardState.votedFor = candidate
                persist()
            }
            resetElectionTimer()
        }
        send(.voteResponse(VoteResponse(term: hardState.term, granted: grant)), to: candidate)
        if !grant && role == .candidate { noticeCompetingCandidate(in: request.term) }
    }
}
