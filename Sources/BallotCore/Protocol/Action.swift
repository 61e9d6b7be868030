/// What a core asks its shell to do, or tells it happened, as plain values.
///
/// Actions are returned in the order they must be carried out. **A ``persist(_:)`` must be durable
/// before any later action of the same batch is executed**: a vote or a new term may only leave the
/// node once it survives a crash (Raft Figure 2, "Persistent state … updated on stable storage
/// before responding to RPCs"). Everything else is informational and never blocks.
public enum Action: Hashable, Sendable {
    /// Write this hard state to stable storage (fsync) before executing the actions after it.
    case persist(HardState)
    /// Send a message to a peer. Delivery is best effort: the protocol tolerates loss.
    case send(Message, to: NodeID)
    /// The node's role changed; the term is the one it now holds.
    case roleChanged(Role, term: Term)
    /// The leader this node knows changed: a new leader, a new term's leader, or none (`nil`).
    case leaderChanged(LeaderInfo?)
    /// A campaign phase began: `preVote` opens a campaign, `vote` follows a won pre-vote (or opens
    /// a campaign directly when PreVote is off or for a leadership transfer).
    case campaignStarted(CampaignPhase, term: Term)
    /// The campaign that began with the first ``campaignStarted(_:term:)`` ended, after `ticks`.
    case campaignFinished(CampaignOutcome, ticks: UInt64)
    /// This node gave up leadership.
    case steppedDown(StepDownReason)
    /// This leader began handing leadership to `to`, for `reason`; its outcome follows as
    /// ``transferFinished(to:_:)``. No lease is held until it ends.
    case transferStarted(to: NodeID, TransferReason)
    /// A leadership transfer this node started has ended.
    case transferFinished(to: NodeID, TransferOutcome)
}

/// A known leader and the term it leads; the term doubles as the fencing token.
public struct LeaderInfo: Hashable, Sendable, CustomStringConvertible {
    public var id: NodeID
    public var term: Term

    public init(id: NodeID, term: Term) {
        self.id = id
        self.term = term
    }

    public var description: String { "\(id)@\(term)" }
}

public enum CampaignPhase: String, Hashable, Sendable, CaseIterable {
    case preVote = "pre_vote"
    case vote
}

public enum CampaignOutcome: String, Hashable, Sendable, CaseIterable {
    /// This node became leader.
    case won
    /// Another leader appeared, a higher term was seen, or a quorum refused.
    case lost
    /// The election timeout ran out first; a new campaign starts at once.
    case timedOut = "timed_out"
}

public enum StepDownReason: String, Hashable, Sendable, CaseIterable {
    case higherTerm = "higher_term"
    case lostQuorum = "lost_quorum"
    case transfer
    case shutdown
    /// The leader resigned (issue 15) and no transfer completed: no eligible follower, or the
    /// hand-over timed out. It holds off campaigning for the resignation's hold-off.
    case resigned
}

/// Why a leader hands leadership over (issue 15 adds all but the first).
public enum TransferReason: String, Hashable, Sendable, CaseIterable {
    /// Asked for by name: `transferLeadership(to:)`, `POST /transfer`, graceful shutdown.
    case requested
    /// The leader resigned: it hands over to its best follower and then holds off campaigning.
    case resignation
    /// The leader was made ineligible: it hands over before it stops leading.
    case ineligible
    /// A member of higher priority has been eligible, caught up and answering for a whole
    /// preemption window while every member answered.
    case preemption
}

public enum TransferOutcome: String, Hashable, Sendable, CaseIterable {
    /// The target is known to lead.
    case completed
    /// One election timeout passed without the target leading (thesis §3.10: abort the transfer).
    case timedOut = "timed_out"
    /// This node lost leadership for another reason, or another node won.
    case abandoned
}

/// Why ``ElectionAlgorithm/transferLeadership(to:)`` refused to start a transfer.
public enum TransferRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    case notLeader(knownLeader: NodeID?)
    case unknownTarget(NodeID)
    case targetIsSelf
    case alreadyTransferring(to: NodeID)
    case unsupported(algorithm: String)
    /// The target reported itself ineligible (issue 15): it would not take leadership.
    case targetIneligible(NodeID)

    public var description: String {
        switch self {
        case .notLeader(let leader):
            "this node is not the leader; ask \(leader.map { "node \($0)" } ?? "the leader, once one is elected,")"
        case .unknownTarget(let id): "node \(id) is not a voting member of this cluster"
        case .targetIsSelf: "this node already leads; pick another member"
        case .alreadyTransferring(let id): "a transfer to node \(id) is in progress; wait for it to finish"
        case .unsupported(let algorithm): "\(algorithm) has no leadership transfer"
        case .targetIneligible(let id):
            "node \(id) is not eligible to lead (PUT /candidacy made it so, or it is holding off after resigning); pick another member"
        }
    }
}
