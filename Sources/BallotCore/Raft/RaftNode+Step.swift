extension RaftNode {
    /// The prelude every message goes through (Raft §5.1, thesis §9.6, etcd's `Step`): settle the
    /// term first, then hand the message to the handler for its kind.
    mutating func step(_ message: Message, from peer: NodeID) {
        let term = message.term
        // A vote request that raises the term passed the stickiness check here, before moving to
        // its term wiped what the check relies on (the announced transfer target).
        let stickinessChecked = term > hardState.term
        if term > hardState.term {
            switch message {
            case .preVoteRequest:
                break  // PreVote never changes anyone's term.
            case .preVoteResponse(let response) where response.granted:
                break  // A grant carries the term we would campaign in, not a newer one; a refusal
                       // carries the voter's own term, so a higher one is news (default below).
            case .voteRequest(let request) where refusesVotes(to: peer, isTransfer: request.isTransfer):
                // Stickiness: a live leader was heard recently, so neither the vote nor its term counts.
                send(.voteResponse(VoteResponse(term: request.term, granted: false)), to: peer)
                return
            case .heartbeat, .timeoutNow:
                stepDownIfLeading(because: term, from: peer)
                becomeFollower(term: term, leader: peer)
            default:
                stepDownIfLeading(because: term, from: peer)
                becomeFollower(term: term, leader: nil)
            }
        } else if term < hardState.term {
            respondToStale(message, from: peer)
            return
        }

        switch message {
        case .preVoteRequest(let request): handlePreVoteRequest(request, from: peer)
        case .voteRequest(let request): handleVoteRequest(request, from: peer, stickinessChecked: stickinessChecked)
        case .preVoteResponse(let response): handleVoteResponse(response, from: peer, phase: .preVote)
        case .voteResponse(let response): handleVoteResponse(response, from: peer, phase: .vote)
        case .heartbeat(let heartbeat): handleHeartbeat(heartbeat, from: peer)
        case .heartbeatResponse(let response): handleHeartbeatResponse(response, from: peer)
        case .timeoutNow: handleTimeoutNow(from: peer)
        case .leaseReleased: break  // `receive` hands it over before the prelude.
        case .bullyElection, .bullyAnswer, .bullyCoordinator, .bullyHeartbeat,
            .ringElection, .ringElected, .ringAck, .ringHeartbeat:
            break  // `receive` drops other algorithms' messages before the prelude.
        }
    }

    /// A message from an older term. Requests get an answer carrying our term, so that a stale
    /// leader or candidate learns it is behind (Raft §5.1); stale responses are dropped.
    private mutating func respondToStale(_ message: Message, from peer: NodeID) {
        let current = hardState.term
        switch message {
        case .heartbeat(let heartbeat):
            send(.heartbeatResponse(HeartbeatResponse(
                term: current, sequence: heartbeat.sequence, lastLog: hardState.lastLog)), to: peer)
        case .preVoteRequest:
            send(.preVoteResponse(VoteResponse(term: current, granted: false)), to: peer)
        case .voteRequest:
            send(.voteResponse(VoteResponse(term: current, granted: false)), to: peer)
        case .preVoteResponse, .voteResponse, .heartbeatResponse, .timeoutNow, .leaseReleased,
            .bullyElection, .bullyAnswer, .bullyCoordinator, .bullyHeartbeat,
            .ringElection, .ringElected, .ringAck, .ringHeartbeat:
            break
        }
    }

    /// Records why a leader is about to lose its role to a newer term.
    private mutating func stepDownIfLeading(because term: Term, from peer: NodeID) {
        guard role == .leader else { return }
        stepDown(transfer?.target == peer ? .transfer : .higherTerm)
    }

    /// Reports that leadership is being given up; the caller then becomes a follower.
    mutating func stepDown(_ reason: StepDownReason) {
        emit(.steppedDown(reason))
        if reason != .transfer, let transfer { finishTransfer(transfer, .abandoned) }
    }

    /// Thesis §4.2.3: votes are refused while a live leader was heard within the minimum election
    /// timeout, unless the candidate is the announced target of a leadership transfer.
    func refusesVotes(to candidate: NodeID, isTransfer: Bool) -> Bool {
        guard configuration.leaderStickiness else { return false }
        if isTransfer && isAnnouncedTransferTarget(candidate) { return false }
        if role == .leader { return true }
        // Issue 7: a voter that has itself lost the leader's process need not wait out the window.
        return now < stickyUntil && !leaderGoneEvidence
    }

    func isAnnouncedTransferTarget(_ candidate: NodeID) -> Bool {
        if role == .leader { return transfer?.target == candidate }
        return followerView.announcedTransferTarget == candidate
    }
}
