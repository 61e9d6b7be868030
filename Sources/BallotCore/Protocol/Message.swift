/// Every message one election core can send another.
///
/// One enum for all algorithms keeps a single wire format, shell and simulator; each algorithm
/// ignores the messages that are not its own.
public enum Message: Hashable, Sendable {
    case preVoteRequest(VoteRequest)
    case preVoteResponse(VoteResponse)
    case voteRequest(VoteRequest)
    case voteResponse(VoteResponse)
    case heartbeat(Heartbeat)
    case heartbeatResponse(HeartbeatResponse)
    case timeoutNow(TimeoutNow)

    /// The term the message was sent in, used by the common step prelude (Raft §5.1).
    public var term: Term {
        switch self {
        case .preVoteRequest(let m), .voteRequest(let m): m.term
        case .preVoteResponse(let m), .voteResponse(let m): m.term
        case .heartbeat(let m): m.term
        case .heartbeatResponse(let m): m.term
        case .timeoutNow(let m): m.term
        }
    }

    /// A stable snake_case name, used for the `type` label of message metrics and in traces.
    public var kind: MessageKind {
        switch self {
        case .preVoteRequest: .preVoteRequest
        case .preVoteResponse: .preVoteResponse
        case .voteRequest: .voteRequest
        case .voteResponse: .voteResponse
        case .heartbeat: .heartbeat
        case .heartbeatResponse: .heartbeatResponse
        case .timeoutNow: .timeoutNow
        }
    }
}

/// The kind of a ``Message``, without its payload.
public enum MessageKind: String, Hashable, Sendable, CaseIterable {
    case preVoteRequest = "pre_vote_request"
    case preVoteResponse = "pre_vote_response"
    case voteRequest = "vote_request"
    case voteResponse = "vote_response"
    case heartbeat
    case heartbeatResponse = "heartbeat_response"
    case timeoutNow = "timeout_now"
}
