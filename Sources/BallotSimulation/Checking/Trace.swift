import BallotCore

/// A compact, readable rendering of a message for traces: `VoteRequest term=4 last=3@2`.
func describe(_ message: Message) -> String {
    switch message {
    case .preVoteRequest(let m): "PreVoteRequest term=\(m.term) last=\(m.lastLog)"
    case .voteRequest(let m): "VoteRequest term=\(m.term) last=\(m.lastLog)\(m.isTransfer ? " transfer" : "")"
    case .preVoteResponse(let m): "PreVoteResponse term=\(m.term) \(m.granted ? "granted" : "refused")"
    case .voteResponse(let m): "VoteResponse term=\(m.term) \(m.granted ? "granted" : "refused")"
    case .heartbeat(let m):
        "Heartbeat term=\(m.term) seq=\(m.sequence)\(m.transferTarget.map { " transfer-to=\($0)" } ?? "")"
    case .heartbeatResponse(let m): "HeartbeatResponse term=\(m.term) seq=\(m.sequence)"
    case .timeoutNow(let m): "TimeoutNow term=\(m.term)"
    case .leaseReleased(let m): "LeaseReleased term=\(m.term)"
    case .bullyElection(let m): "BullyElection epoch=\(m.epoch)"
    case .bullyAnswer(let m): "BullyAnswer epoch=\(m.epoch)"
    case .bullyCoordinator(let m): "BullyCoordinator epoch=\(m.epoch)"
    case .bullyHeartbeat(let m): "BullyHeartbeat epoch=\(m.epoch)"
    case .ringElection(let m): "RingElection epoch=\(m.epoch) candidate=\(m.candidate) seq=\(m.sequence)"
    case .ringElected(let m): "RingElected epoch=\(m.epoch) coordinator=\(m.coordinator) seq=\(m.sequence)"
    case .ringAck(let m): "RingAck epoch=\(m.epoch) seq=\(m.sequence)"
    case .ringHeartbeat(let m): "RingHeartbeat epoch=\(m.epoch)"
    }
}
