import BallotCore
import BallotWire
import Foundation
import Logging

extension BallotNode {
    /// Carries out a batch of core actions in order. A `.persist` is fsynced before anything after
    /// it runs; if it fails, the rest of the batch is dropped and the node halts, because sending a
    /// vote or a term that is not durable could break safety after a crash.
    func execute(_ actions: [Action]) {
        let now = clock.now
        for action in actions {
            guard halted == nil else { return }
            switch action {
            case .persist(let state):
                do {
                    try store.save(state)
                } catch {
                    halted = error
                    logger.critical("cannot persist hard state; this node stops taking part in elections",
                                    metadata: ["error": "\(error)"])
                    return
                }
            case .send(let message, let peer):
                send(message, to: peer, at: now)
            case .leaderChanged(let leader):
                noteLeader(leader, at: now)
            case .transferFinished(let target, let outcome):
                for waiter in transferWaiters.removeValue(forKey: target) ?? [] { waiter.resume(returning: outcome) }
            case .roleChanged(let role, let term):
                logger.info("role changed", metadata: ["role": "\(role)", "term": "\(term)"])
            case .steppedDown(let reason):
                logger.notice("stepped down", metadata: ["reason": "\(reason.rawValue)"])
            case .campaignStarted, .campaignFinished:
                break
            }
        }
        recorder.record(actions, status: core.status, at: now, tickOrigin: origin)
        noteLease(core.status, at: now)
    }

    /// Reports a moved lease deadline to the observer (``observeLease(_:)``); silent otherwise.
    private func noteLease(_ status: NodeStatus, at now: ContinuousClock.Instant) {
        guard let leaseObserver else { return }
        var current: LeaseChange?
        if status.role == .leader, let expiry = status.leaseExpiry {
            if expiry == UInt64.max {
                current = LeaseChange(term: status.term, at: now, until: nil)
            } else if status.now < expiry, instant(ofTick: expiry) > now {
                current = LeaseChange(term: status.term, at: now, until: instant(ofTick: expiry))
            }
        }
        switch (reportedLease, current) {
        case (nil, nil):
            return
        case (let reported?, nil):
            reportedLease = nil
            leaseObserver(LeaseChange(term: reported.term, at: now, until: now))
        case (let reported, let current?):
            if let reported, reported.term == current.term, reported.until == current.until { return }
            reportedLease = current
            leaseObserver(current)
        }
    }

    private func send(_ message: Message, to peer: NodeID, at now: ContinuousClock.Instant) {
        let frame = PeerFrame.message(message)
        let outcome = outbox.send(frame, to: peer)
        switch outcome {
        case .queued:
            recorder.messageSent(message.kind, bytes: FrameEncoder.encodedByteCount(of: frame))
            if case .heartbeat(let heartbeat) = message {
                var inFlight = heartbeatsInFlight[peer, default: []]
                // Unanswered heartbeats older than an election timeout count as failures.
                let expired = inFlight.prefix { now - $0.sentAt > electionTimeout }.count
                for _ in 0..<expired { recorder.heartbeatFailure(peer) }
                inFlight.removeFirst(expired)
                inFlight.append(HeartbeatInFlight(term: heartbeat.term, sequence: heartbeat.sequence, sentAt: now))
                heartbeatsInFlight[peer] = inFlight
            }
        case .droppedNotConnected, .droppedQueueFull:
            recorder.peerQueueDropped(peer)
            if case .heartbeat = message { recorder.heartbeatFailure(peer) }
        }
    }

    /// Matches a heartbeat acknowledgement to its send instant, for the round-trip histogram.
    func noteAcknowledgement(_ response: HeartbeatResponse, from peer: NodeID) {
        guard var inFlight = heartbeatsInFlight[peer],
              let index = inFlight.firstIndex(where: { $0.sequence == response.sequence && $0.term == response.term })
        else { return }
        let roundTrip = clock.now - inFlight[index].sentAt
        lastRoundTrip[peer] = roundTrip
        recorder.heartbeatRoundTrip(peer, roundTrip)
        inFlight.removeFirst(index + 1)
        heartbeatsInFlight[peer] = inFlight
    }

    /// Keeps the leaderless clock, the recent history and the event subscribers up to date.
    private func noteLeader(_ leader: LeaderInfo?, at now: ContinuousClock.Instant) {
        if let leader {
            let leaderless = knownLeader == nil ? now - leaderlessSince : .zero
            knownLeader = leader
            logger.notice("leader elected", metadata: [
                "leader": "\(leader.id)", "term": "\(leader.term)",
                "leaderless_ms": "\(leaderless.milliseconds)",
            ])
            record(LeadershipChangeRecord(leader: leader.id, term: leader.term, unixTime: Date().timeIntervalSince1970,
                                          leaderless: leaderless))
            publish(.elected(leader: leader.id, term: leader.term, isSelf: leader.id == id, leaderlessFor: leaderless))
        } else if let previous = knownLeader {
            knownLeader = nil
            leaderlessSince = now
            logger.notice("leader lost", metadata: ["previous": "\(previous.id)", "term": "\(previous.term)"])
            record(LeadershipChangeRecord(leader: nil, term: previous.term, unixTime: Date().timeIntervalSince1970,
                                          leaderless: .zero))
            publish(.lost(previous: previous.id, term: previous.term))
        }
    }

    private func record(_ change: LeadershipChangeRecord) {
        recentChanges.append(change)
        if recentChanges.count > 20 { recentChanges.removeFirst(recentChanges.count - 20) }
    }

    private func publish(_ event: LeadershipEvent) {
        for (_, continuation) in subscribers { continuation.yield(event) }
    }
}

extension Duration {
    /// Whole and fractional milliseconds, for logs and JSON.
    public var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
