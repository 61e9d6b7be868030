extension RaftNode {
    /// Raft §5.2, §8: a candidate with a quorum of votes leads; it appends a no-op entry of its term
    /// and asserts itself with an immediate heartbeat.
    mutating func becomeLeader() {
        if let campaign { finishCampaign(campaign, .won) }
        hardState.lastLog = LogPosition(index: hardState.lastLog.index + 1, term: hardState.term)
        persist()
        var state = LeaderState()
        for peer in peers { state.lastHeard[peer] = now }
        // A leader elected before its own promise to the previous leader ran out (a transfer, or
        // fast failover after a crash) begins its lease only when that promise ends — or when
        // that leader releases it.
        if let promised = promisedTo, releasedLeadership != promised { fold(promised, until: promiseUntil) }
        state.leaseNotBefore = successionClearAt
        ledTerm = hardState.term
        transition(to: .leader(state))
        broadcastHeartbeat()
    }

    mutating func tickLeader(_ state: LeaderState) {
        var state = state
        state.heartbeatElapsed += 1
        let lease = configuration.leaseTicks
        state.sent.removeAll { now - $0.tick > lease }
        roleState = .leader(state)
        if configuration.checkQuorum && !hearsFromQuorum {
            stepDown(.lostQuorum)
            becomeFollower(term: hardState.term, leader: nil)
            return
        }
        if state.heartbeatElapsed >= configuration.heartbeatIntervalTicks {
            // Only on heartbeat ticks, which act anyway: the timer promise needs no new wake-up.
            considerHandover()
            // A hand-over announces itself with a heartbeat of its own.
            if let state = leaderState, state.heartbeatElapsed >= configuration.heartbeatIntervalTicks {
                broadcastHeartbeat()
            }
        }
    }

    /// Thesis §6.2: has a quorum (counting ourselves) been heard within the last T ticks?
    var hearsFromQuorum: Bool {
        guard let state = leaderState else { return false }
        let window = configuration.electionTimeoutTicks
        let live = peers.count { now - (state.lastHeard[$0] ?? 0) <= window }
        return membership.isQuorum(live + 1)
    }

    /// The first tick at which ``hearsFromQuorum`` turns false if nobody is heard from before it:
    /// one past the window of the peer whose contact completes the quorum; `nil` for a lone node.
    func quorumLostAt(_ state: LeaderState) -> UInt64? {
        let needed = membership.quorum - 1
        guard needed > 0 else { return nil }
        let recent = peers.map { state.lastHeard[$0] ?? 0 }.sorted(by: >)
        return recent[needed - 1] + configuration.electionTimeoutTicks + 1
    }

    mutating func broadcastHeartbeat() {
        guard var state = leaderState else {
            assertionFailure("a \(role) cannot send heartbeats")
            return
        }
        let sequence = state.nextSequence
        state.nextSequence += 1
        state.heartbeatElapsed = 0
        state.sent.append(SentHeartbeat(sequence: sequence, tick: now))
        roleState = .leader(state)
        let heartbeat = Heartbeat(
            term: hardState.term, sequence: sequence, leaderLog: hardState.lastLog,
            transferTarget: transfer?.target)
        for peer in peers { send(.heartbeat(heartbeat), to: peer) }
    }

    /// Follower side of a heartbeat from the leader of our term: note the contact, adopt the
    /// leader's log position, and acknowledge.
    mutating func handleHeartbeat(_ heartbeat: Heartbeat, from peer: NodeID) {
        // Two leaders of one term cannot exist (Raft §5.2); a peer claiming so is ignored, not obeyed.
        guard role != .leader else { return }
        if role != .follower || leader != peer {
            becomeFollower(term: hardState.term, leader: peer)
        }
        electionElapsed = 0
        lastLeaderContact = now
        goneLeader = nil
        if configuration.leaderStickiness {
            let leadership = LeaderInfo(id: peer, term: hardState.term)
            if promisedTo != leadership {
                // The promise still running belongs to an earlier leadership (unless released).
                if let promised = promisedTo, releasedLeadership != promised { fold(promised, until: promiseUntil) }
                promisedTo = leadership
            }
            stickyUntil = max(stickyUntil, now + configuration.electionTimeoutTicks)
            promiseUntil = max(promiseUntil, now + configuration.leasePromiseTicks)
        }
        if heartbeat.sequence > followerView.newestSequence {
            followerView.newestSequence = heartbeat.sequence
            followerView.announcedTransferTarget = heartbeat.transferTarget
        }
        if heartbeat.leaderLog != hardState.lastLog {
            hardState.lastLog = heartbeat.leaderLog
            persist()
        }
        // Sequence 0 acknowledges the contact (CheckQuorum) but credits no lease: an earlier
        // leader's lease may still run on the strength of this node's promise.
        let credited = now >= successionClearAt ? heartbeat.sequence : 0
        if heartbeat.sequence == followerView.newestSequence { followerView.creditWithheld = credited == 0 }
        send(.heartbeatResponse(HeartbeatResponse(
            term: hardState.term, sequence: credited, lastLog: hardState.lastLog,
            candidacy: reportedCandidacy)), to: peer)
        if followerView.timeoutNowAwaitsAnnouncement, followerView.announcedTransferTarget == id, mayLead {
            followerView.timeoutNowAwaitsAnnouncement = false
            startCampaign(transfer: true)
        }
    }

    mutating func handleHeartbeatResponse(_ response: HeartbeatResponse, from peer: NodeID) {
        // Late acknowledgements reach a node that no longer leads.
        guard var state = leaderState else { return }
        let previousContact = state.lastHeard[peer] ?? 0
        state.lastHeard[peer] = now
        noteHealth(of: peer, response, previousContact: previousContact, in: &state)
        // A delayed, older acknowledgement must not hide a newer one.
        state.match[peer] = max(state.match[peer] ?? .empty, response.lastLog)
        if response.sequence >= state.leaseMinSequence,
            let sent = state.sent.first(where: { $0.sequence == response.sequence })
        {
            state.ackedSendTick[peer] = max(state.ackedSendTick[peer] ?? 0, sent.tick)
        }
        roleState = .leader(state)
        if var transfer, !transfer.timeoutNowSent, transfer.target == peer,
            response.lastLog == hardState.lastLog
        {
            transfer.timeoutNowSent = true
            self.transfer = transfer
            send(.timeoutNow(TimeoutNow(term: hardState.term)), to: peer)
        }
    }

    /// The tick until which a quorum has promised, through leader stickiness, not to elect another
    /// leader: the send time of the heartbeat the quorum-th freshest peer acknowledged, plus the lease.
    /// Only acknowledgements that credit the lease count (sequence 0 does not), and none before
    /// this node's own earlier promises ran out: a lease begins after every earlier one ended.
    var leaseExpiry: UInt64? {
        guard transfer == nil, let state = leaderState, !state.leaseReleased else { return nil }
        let needed = membership.quorum - 1
        if needed == 0 { return UInt64.max }
        guard now >= state.leaseNotBefore else { return nil }
        let lease = configuration.leaseTicks
        guard lease > 0 else { return nil }
        let acked = peers.compactMap { state.ackedSendTick[$0] }.sorted(by: >)
        guard acked.count >= needed else { return nil }
        return acked[needed - 1] + lease
    }

    // MARK: Leadership transfer (thesis §3.10)

    /// Announces the transfer in a heartbeat (so voters waive stickiness for the target) and, once
    /// the target is up to date, tells it to campaign at once. The lease is given up meanwhile.
    mutating func startTransfer(to target: NodeID, reason: TransferReason) {
        transfer = Transfer(target: target, startedAt: now, reason: reason)
        emit(.transferStarted(to: target, reason))
        broadcastHeartbeat()
        if let match = leaderState?.match[target], match == hardState.lastLog {
            transfer?.timeoutNowSent = true
            send(.timeoutNow(TimeoutNow(term: hardState.term)), to: target)
        }
    }

    /// Thesis §3.10: abort a transfer that has not completed within an election timeout.
    mutating func expireTransfer() {
        guard let transfer, now - transfer.startedAt >= configuration.electionTimeoutTicks else { return }
        finishTransfer(transfer, .timedOut)
        if role == .leader && transfer.reason == .resignation {
            // A resigning leader goes even without a successor; its hold-off starts now.
            stepDown(.resigned)
            becomeFollower(term: hardState.term, leader: nil)
        } else if role == .leader, leaderState?.leaseReleased == true {
            // Its holders released the lease, so it cannot lead usefully in this term: let a new
            // term's leader (maybe itself again) begin a lease.
            stepDown(.transfer)
            becomeFollower(term: hardState.term, leader: nil)
        } else if role == .leader {
            // Acks of heartbeats that announced the transfer promised nothing: only newer ones count,
            // and the next heartbeat withdraws the announcement.
            updateLeaderState { state in
                state.leaseMinSequence = state.nextSequence
                state.ackedSendTick = [:]
            }
            broadcastHeartbeat()
        }
    }

    mutating func finishTransfer(_ transfer: Transfer, _ outcome: TransferOutcome) {
        self.transfer = nil
        emit(.transferFinished(to: transfer.target, outcome))
    }

    /// Changes the leader's own state; calling it in any other role is a bug.
    mutating func updateLeaderState(_ change: (inout LeaderState) -> Void) {
        guard case .leader(var state) = roleState else {
            assertionFailure("a \(role) has no leader state")
            return
        }
        change(&state)
        roleState = .leader(state)
    }
}
