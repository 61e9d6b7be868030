/// Every message one election core can send another.
///
/// One enum for all algorithms keeps a single wire format, shell and simulator; each algorithm
/// ignores the messages that are not its own (see ``algorithm``).
public enum Message: Hashable, Sendable {
    case preVoteRequest(VoteRequest)
    case preVoteResponse(VoteResponse)
    case voteRequest(VoteRequest)
    case voteResponse(VoteResponse)
    case heartbeat(Heartbeat)
    case heartbeatResponse(HeartbeatResponse)
    case timeoutNow(TimeoutNow)
    /// The leader of a term released its lease early: its holders stopped (version 3).
    case leaseReleased(LeaseReleased)

    /// Bully (Garcia-Molina 1982): "I am holding an election", sent to every higher ID.
    case bullyElection(BullyElection)
    /// Bully: the answer (OK) of a live higher ID, which then takes the election over.
    case bullyAnswer(BullyAnswer)
    /// Bully: "I am the coordinator of this epoch".
    case bullyCoordinator(BullyCoordinator)
    /// Bully: the coordinator's periodic proof of life.
    case bullyHeartbeat(BullyHeartbeat)

    /// Ring (Chang–Roberts): the election token, carrying the highest ID seen so far.
    case ringElection(RingElection)
    /// Ring: the elected (coordinator) message, circulating once around the ring.
    case ringElected(RingElected)
    /// Ring: a successor's acknowledgement of a forwarded election or elected message.
    case ringAck(RingAck)
    /// Ring: the coordinator's periodic proof of life.
    case ringHeartbeat(RingHeartbeat)

    /// The term the message was sent in, used by the common step prelude (Raft §5.1). For Bully and
    /// Ring messages it is the election epoch the message carries.
    public var term: Term {
        switch self {
        case .preVoteRequest(let m), .voteRequest(let m): m.term
        case .preVoteResponse(let m), .voteResponse(let m): m.term
        case .heartbeat(let m): m.term
        case .heartbeatResponse(let m): m.term
        case .timeoutNow(let m): m.term
        case .leaseReleased(let m): m.term
        case .bullyElection(let m): m.epoch
        case .bullyAnswer(let m): m.epoch
        case .bullyCoordinator(let m): m.epoch
        case .bullyHeartbeat(let m): m.epoch
        case .ringElection(let m): m.epoch
        case .ringElected(let m): m.epoch
        case .ringAck(let m): m.epoch
        case .ringHeartbeat(let m): m.epoch
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
        case .leaseReleased: .leaseReleased
        case .bullyElection: .bullyElection
        case .bullyAnswer: .bullyAnswer
        case .bullyCoordinator: .bullyCoordinator
        case .bullyHeartbeat: .bullyHeartbeat
        case .ringElection: .ringElection
        case .ringElected: .ringElected
        case .ringAck: .ringAck
        case .ringHeartbeat: .ringHeartbeat
        }
    }

    /// The algorithm that speaks this message; every core ignores the others' messages.
    public var algorithm: ElectionAlgorithmKind { kind.algorithm }
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
    case leaseReleased = "lease_released"
    case bullyElection = "bully_election"
    case bullyAnswer = "bully_answer"
    case bullyCoordinator = "bully_coordinator"
    case bullyHeartbeat = "bully_heartbeat"
    case ringElection = "ring_election"
    case ringElected = "ring_elected"
    case ringAck = "ring_ack"
    case ringHeartbeat = "ring_heartbeat"

    /// The algorithm this kind of message belongs to.
    public var algorithm: ElectionAlgorithmKind {
        switch self {
        case .preVoteRequest, .preVoteResponse, .voteRequest, .voteResponse, .heartbeat, .heartbeatResponse,
            .timeoutNow, .leaseReleased:
            .raft
        case .bullyElection, .bullyAnswer, .bullyCoordinator, .bullyHeartbeat: .bully
        case .ringElection, .ringElected, .ringAck, .ringHeartbeat: .ring
        }
    }

    /// The leader's periodic proof of life and its acknowledgement: steady-state traffic, sent
    /// whether or not an election is under way (the comparison counts it apart from elections).
    public var isHeartbeat: Bool {
        switch self {
        case .heartbeat, .heartbeatResponse, .bullyHeartbeat, .ringHeartbeat: true
        default: false
        }
    }
}
