import BallotCore

/// Checks the safety properties after every simulated event, remembering what it needs across
/// restarts (terms seen, votes cast, the leader of every term).
///
/// A property in `measured` is one the algorithm does not promise (Bully and Ring have no quorum,
/// so two leaders of one epoch are expected under partitions): its breaches are counted in
/// ``breaches`` instead of being reported as violations.
struct InvariantChecker {
    private(set) var violations: [Violation] = []
    /// Breaches of measured properties, by property.
    private(set) var breaches: [Violation.Property: Int] = [:]
    let measured: Set<Violation.Property>
    private var leadersOfTerm: [Term: [NodeID]] = [:]
    private var highestTerm: [NodeID: Term] = [:]
    private var voteInTerm: [NodeID: [Term: NodeID]] = [:]
    /// The latest lease deadline each node published, on the virtual clock, and its term. Kept
    /// across crashes and step-downs: a deadline once published is what the holder's keeper acts on.
    private var publishedLeases: [NodeID: PublishedLease] = [:]

    struct PublishedLease {
        var term: Term
        var until: VirtualTime
    }

    init(measured: Set<Violation.Property> = []) {
        self.measured = measured
    }

    mutating func fail(_ property: Violation.Property, at time: VirtualTime, _ detail: @autoclosure () -> String) {
        if measured.contains(property) {
            breaches[property, default: 0] += 1
        } else {
            violations.append(Violation(time: time, property: property, detail: detail()))
        }
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

    /// Checks one node's beliefs after it handled an event. A second leader of one term is one
    /// breach, however long both keep leading.
    mutating func checkNode(_ status: NodeStatus, at time: VirtualTime) {
        if let previous = highestTerm[status.id], status.term < previous {
            fail(.termMonotonicity, at: time, "node \(status.id) went from term \(previous) back to \(status.term)")
        }
        highestTerm[status.id] = max(highestTerm[status.id] ?? .zero, status.term)
        if status.role == .leader {
            let leaders = leadersOfTerm[status.term, default: []]
            if !leaders.contains(status.id) {
                if let other = leaders.first {
                    fail(.electionSafety, at: time, "nodes \(other) and \(status.id) both led term \(status.term)")
                }
                leadersOfTerm[status.term] = leaders + [status.id]
            }
        }
    }

    /// Checks that at most one of `holders` (nodes whose lease is valid now) exists. Measured
    /// overlaps are accounted as time by the simulator, not counted here.
    mutating func checkLeases(_ holders: [NodeStatus], at time: VirtualTime) {
        guard holders.count > 1, !measured.contains(.leaseExclusivity) else { return }
        let who = holders.map { "\($0.id)@term\($0.term)" }.joined(separator: ", ")
        fail(.leaseExclusivity, at: time, "several nodes hold a valid leader lease at once: \(who)")
    }

    /// Notes a lease deadline `node` publishes now (converted to virtual time by the caller).
    /// Only the latest deadline matters: every other one the node published ends before it.
    mutating func recordLease(of node: NodeID, term: Term, until deadline: VirtualTime) {
        if deadline > publishedLeases[node]?.until ?? .zero {
            publishedLeases[node] = PublishedLease(term: term, until: deadline)
        }
    }

    /// Issue 15: `node` released its lease of `term` now — every holder of it stopped — so the
    /// deadline it published no longer binds its successors.
    mutating func recordRelease(of node: NodeID, term: Term, at time: VirtualTime) {
        guard let lease = publishedLeases[node], lease.term == term, lease.until > time else { return }
        publishedLeases[node] = PublishedLease(term: term, until: time)
    }

    /// Checks that no holder's lease runs beside another node's published lease that has not run
    /// out yet — also one whose holder has since crashed or stepped down.
    mutating func checkLeaseSuccession(_ holders: [NodeStatus], at time: VirtualTime) {
        guard !measured.contains(.leaseSuccession) else { return }
        for holder in holders {
            for (node, lease) in publishedLeases where node != holder.id && lease.until > time {
                fail(.leaseSuccession, at: time,
                     "node \(holder.id) holds a lease of term \(holder.term) while node \(node)'s lease of term "
                     + "\(lease.term) runs until \(lease.until)")
                return
            }
        }
    }

    var electedTerms: Int { leadersOfTerm.count }
}
