import BallotCore
import BallotRuntime

/// What a backend knows of its election at one moment, as the coordination service last told it.
struct ElectionObservation: Hashable, Sendable {
    /// The candidacy that holds the election (the oldest one), named by its node and fencing
    /// token; nil when there is none, or when it cannot be named (a previous incarnation of this
    /// node, or a candidacy whose data is not a node ID).
    var leader: LeaderInfo?
    /// This node's current candidacy holds the election.
    var ownCandidacyLeads = false
    /// The token of this node's current candidacy, if it has one.
    var ownToken: Term?
    /// Until when this node may claim leadership (``ClaimBound``), while its candidacy leads.
    var claimUntil: MonotonicInstant?
    /// When this node last heard from the service: the send instant of its last answered renewal.
    var lastContact: MonotonicInstant?
}

/// Turns a backend's observations into the node's leadership view, with the same actions a node
/// driver would report, so that the view's events and the metrics mean the same for every producer.
///
/// - A node **leads** exactly while its own candidacy is the oldest and its claim deadline has not
///   passed: role `leader`, lease `.until(deadline)`. The deadline is judged by the view at the
///   instant of asking, so a paused process reports no lease the moment it resumes.
/// - The **term** is the fencing token of the leadership the node knows (the etcd key's creation
///   revision, the ZooKeeper node's czxid); it is saved durably before it is first reported.
/// - A **campaign** is a bid: a candidacy made, or the candidacy ahead of this node's gone. It is
///   won when this node leads, lost when another candidacy is seen to lead.
///
/// Confined to its backend's actor.
final class LeadershipPublisher {
    let view: LeadershipView
    let node: NodeID
    let observer: (any BackendObserver)?
    private let tokens: (any FencingTokenStore)?
    private var savedToken: Term
    private(set) var role: Role = .follower
    private(set) var term: Term
    private var published: LeaderInfo?
    private var campaignOpen = false
    private(set) var observation = ElectionObservation()
    private(set) var halted: Halt?

    init(view: LeadershipView, observer: (any BackendObserver)?, tokens: (any FencingTokenStore)?,
         recoveredToken: Term, at now: MonotonicInstant) {
        self.view = view
        node = view.node
        self.observer = observer
        self.tokens = tokens
        savedToken = recoveredToken
        term = recoveredToken
        view.start(at: now, role: .follower, term: recoveredToken)
    }

    /// The claim deadline while this node leads: the backend wakes then to end the claim.
    var claimDeadline: MonotonicInstant? { role == .leader ? observation.claimUntil : nil }

    /// A new bid for leadership begins now (a candidacy made, or the one ahead of ours gone).
    func campaignStarted(at now: MonotonicInstant) {
        guard !campaignOpen, halted == nil else { return }
        campaignOpen = true
        let actions: [Action] = [.campaignStarted(.vote, term: term)]
        if role == .follower { role = .candidate }
        view.absorb(actions, role: role, term: term, lease: lease(at: now), lastContact: observation.lastContact, at: now)
        observer?.executed(actions, at: now)
    }

    /// Publishes `observation` as of `now`: leader, role, term, lease and the actions between the
    /// previous view and this one. `reason` is why a leadership that ends here ended.
    func publish(_ observation: ElectionObservation, at now: MonotonicInstant,
                 endingLeadershipBecause reason: StepDownReason = .lostQuorum) throws(BackendError) {
        if let halted { throw .halted(halted) }
        self.observation = observation
        let claiming = observation.ownCandidacyLeads && observation.ownToken != nil
            && (observation.claimUntil.map { $0 > now } ?? false)
        let leader: LeaderInfo?
        if observation.ownCandidacyLeads {
            leader = claiming ? observation.ownToken.map { LeaderInfo(id: node, term: $0) } : nil
        } else {
            leader = observation.leader
        }
        let newTerm = leader?.term ?? term
        if newTerm > savedToken {
            do {
                try tokens?.save(highestToken: newTerm)
                savedToken = newTerm
            } catch {
                let halt = Halt(reason: .stateWriteFailed, detail: "\(error)")
                halted = halt
                role = .follower
                view.halt(halt, at: now)
                throw .halted(halt)
            }
        }
        var actions: [Action] = []
        // A campaign ends when this node claims (won) or another candidacy is seen to lead (lost).
        let outcome: CampaignOutcome? = !campaignOpen ? nil : claiming ? .won : leader != nil ? .lost : nil
        if outcome != nil { campaignOpen = false }
        let newRole: Role = claiming ? .leader : (campaignOpen ? .candidate : .follower)
        if role == .leader, newRole != .leader { actions.append(.steppedDown(reason)) }
        if newRole != role || newTerm != term { actions.append(.roleChanged(newRole, term: newTerm)) }
        if leader != published { actions.append(.leaderChanged(leader)) }
        if let outcome { actions.append(.campaignFinished(outcome, ticks: 0)) }
        role = newRole
        term = newTerm
        published = leader
        view.absorb(actions, role: role, term: term, lease: lease(at: now), lastContact: observation.lastContact, at: now)
        if !actions.isEmpty { observer?.executed(actions, at: now) }
    }

    /// Publishes the same observation again: at the claim deadline, this ends the claim.
    func republish(at now: MonotonicInstant) throws(BackendError) {
        try publish(observation, at: now)
    }

    /// Stops claiming now and forgets the leader, before the candidacy is given up on the service.
    func shutDown(at now: MonotonicInstant) {
        guard halted == nil else { return }
        var actions: [Action] = []
        if role == .leader { actions.append(.steppedDown(.shutdown)) }
        if campaignOpen {
            actions.append(.campaignFinished(.lost, ticks: 0))
            campaignOpen = false
        }
        if role != .follower { actions.append(.roleChanged(.follower, term: term)) }
        if published != nil { actions.append(.leaderChanged(nil)) }
        role = .follower
        published = nil
        observation.ownCandidacyLeads = false
        observation.claimUntil = nil
        view.absorb(actions, role: .follower, term: term, lease: .none, lastContact: observation.lastContact, at: now)
        if !actions.isEmpty { observer?.executed(actions, at: now) }
    }

    private func lease(at now: MonotonicInstant) -> Lease {
        guard role == .leader, let until = observation.claimUntil else { return .none }
        return .until(until)
    }
}
