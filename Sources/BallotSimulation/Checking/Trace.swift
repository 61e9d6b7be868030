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
    }
}
