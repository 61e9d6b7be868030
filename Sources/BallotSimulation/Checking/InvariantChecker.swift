import BallotCore

/// Checks the safety properties after every simulated event, remembering what it needs across
/// restarts (terms seen, votes cast, the leader of every term).
struct InvariantChecker {
    private(set) var violations: [Violation] = []
    private var leaderOfTerm: [Term: NodeID] = [:]
    private var highestTerm: [NodeID: Term] = [:]
    private var voteInTerm: [NodeID: [Term: NodeID]] = [:]

    mutating func fail(_ property: Violation.Property, at time: VirtualTime, _ detail: String) {
        violations.append(Violation(time: time, property: property, detail: detail))
    }

    /// A node asked to persist `state`: record its vote, refusing a second one in the same term.
    mutating func recordPersist(_ state: HardState, of node: NodeID, at time: VirtualTime) {
        guard let vote = state.votedFor else { return }
        if let earlier = voteInTerm[node]?[state.term], earlier != vote {
            fail(.singleVote, at: time, "node \(node) voted for \(earlier) and then \(vote) in term \(state.term)")
        }
        voteInTerm[node, default: [:]][state.term] = vote
    }

    /// A node sends a message: a granted vote must already be durable.
    mutating func checkSend(_ message: Message, from node: NodeID, to peer: NodeID, durable: HardState, at time: VirtualTime) {
        guard case .voteResponse(let response) = message, response.granted else { return }
        if durable.term != response.term || durable.votedFor != peer {
            fail(.persistBeforeSend, at: time,
                 "node \(node) granted its term-\(response.term) vote to \(peer) but its durable state is \(durable)")
        }
    }

    /// Checks one node's beliefs after it handled an event.
    mutating func checkNode(_ status: NodeStatus, at time: VirtualTime) {
        if let previous = highestTerm[status.id], status.term < previous {
            fail(.termMonotonicity, at: time, "node \(status.id) went from term \(previous) back to \(status.term)")
        }
        highestTerm[status.id] = max(highestTerm[status.id] ?? .zero, status.term)
        if status.role == .leader {
            if let other = leaderOfTerm[status.term], other != status.id {
                fail(.electionSafety, at: time, "nodes \(other) and \(status.id) both led term \(status.term)")
            } else {
                leaderOfTerm[status.term] = status.id
            }
        }
    }

    /// Checks that at most one of `holders` (nodes whose lease is valid now) exists.
    mutating func checkLeases(_ holders: [NodeStatus], at time: VirtualTime) {
        guard holders.count > 1 else { return }
        let who = holders.map { "\($0.id)@term\($0.term)" }.joined(separator: ", ")
        fail(.leaseExclusivity, at: time, "several nodes hold a valid leader lease at once: \(who)")
    }

    var electedTerms: Int { leaderOfTerm.count }
}
