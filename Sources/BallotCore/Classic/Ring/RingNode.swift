/// The Ring election state machine of one node: Chang–Roberts extrema-finding on the logical ring
/// of sorted IDs, with LeLann's skipping of dead successors, as Tanenbaum & van Steen present the
/// ring algorithm (Distributed Systems, §6.5.1 in the 2nd edition).
///
/// - A member that misses its coordinator's heartbeats for its failure timeout starts an election:
///   it sends a ``RingElection`` token carrying its own ID to its successor.
/// - Each member forwards the larger of the token's candidate and its own ID. A member already
///   taking part swallows tokens whose candidate is not larger than the one it forwarded, so of
///   several concurrent initiators only the highest token survives (Chang–Roberts).
/// - When a member receives its own ID back, it has the highest live ID: it becomes coordinator
///   and sends a ``RingElected`` message once around the ring; every member adopts it.
/// - Every token is acknowledged (``RingAck``). A successor that does not acknowledge within the
///   acknowledgement timeout is skipped and the token goes to the next one. If the skipped member
///   was the token's own candidate, that candidate died mid-election: the skipping member starts a
///   newer election (a higher epoch supersedes the stranded one).
///
/// Roles: ``Role/follower`` while following a coordinator or forwarding someone else's token,
/// ``Role/candidate`` while its own ID is the highest it has forwarded in an ongoing election,
/// ``Role/leader`` while it believes it is the coordinator. ``Role/preCandidate`` is never used.
///
/// Epochs: every election proposes an epoch above any its members hold, and the coordinator it
/// elects announces it. The epoch is reported as the term and persisted. Ring has no quorum and no
/// lease: ``NodeStatus/leaseExpiry`` is `UInt64.max` while the node believes it is coordinator, so
/// ``NodeStatus/holdsLease`` means exactly that belief, which lets the simulator measure split brain.
/// A member that recovers does not start an election: it waits for a heartbeat like any follower,
/// so unlike Bully a recovering higher ID does not take over.
public struct RingNode: ElectionAlgorithm, CoordinatorElection {
    public static let algorithmName = "ring"

    public let id: NodeID
    public let membership: Membership
    public let configuration: RingConfiguration

    /// The epoch of the coordinator this node follows or is; persisted as `HardState.term`.
    var epoch: Term
    /// The highest epoch any election token proposed to this node.
    var highestProposal: Term
    var role: Role = .follower
    var coordinator: NodeID?
    var reportedLeader: LeaderInfo?
    var random: SplitMix64

    /// Logical ticks since start.
    var now: UInt64 = 0
    /// Ticks since the coordinator was last heard, and the randomized timeout it runs to.
    var silence: UInt64 = 0
    var failureTimeout: UInt64 = 0
    var lastCoordinatorContact: UInt64?
    var heartbeatElapsed: UInt64 = 0

    /// The election this node is taking part in, if any.
    var participation: Participation?
    /// Set while this node's own ID leads the election it takes part in (role candidate).
    var campaignStartedAt: UInt64?
    /// Tokens sent to a successor and not yet acknowledged.
    var pending: [PendingForward] = []
    var nextSequence: UInt64 = 1
    /// Successors that failed to acknowledge during the current election, skipped until they are
    /// heard from again or a newer election begins.
    var suspected: Set<NodeID> = []
    /// The last elected message forwarded, so a duplicate is not sent around twice.
    var lastElectedForwarded: RingToken?

    /// Pending actions of the event being handled.
    var actions: [Action] = []

    /// Creates a node from its durable state, as on first start or after a crash.
    public init(
        id: NodeID, membership: Membership, configuration: RingConfiguration = .init(),
        hardState: HardState = .initial, random: SplitMix64
    ) {
        precondition(membership.contains(id), "node \(id) is not in its own membership")
        precondition((try? configuration.validate()) != nil, "invalid RingConfiguration: validate() it first")
        self.id = id
        self.membership = membership
        self.configuration = configuration
        self.epoch = hardState.term
        self.highestProposal = hardState.term
        self.random = random
        resetFailureTimer()
    }

    public var status: NodeStatus { coordinatorStatus }

    var failureTimeoutTicks: UInt64 { configuration.failureTimeoutTicks }

    public var preferredTransferTarget: NodeID? { nil }

    // MARK: Inputs

    public mutating func tick() -> [Action] {
        now += 1
        if role == .leader {
            heartbeatElapsed += 1
            if heartbeatElapsed >= configuration.heartbeatIntervalTicks { broadcastHeartbeat() }
        } else {
            silence += 1
        }
        expireAcknowledgements()
        if let participation, now - participation.since >= configuration.electionTimeoutTicks {
            // The token was lost: give this election up; the failure detector starts a newer one.
            self.participation = nil
            finishCampaign(.timedOut)
        }
        if role != .leader, participation == nil, silence >= failureTimeout {
            initiate()
        }
        return drainActions()
    }

    public mutating func receive(_ message: Message, from peer: NodeID) -> [Action] {
        guard peer != id, membership.contains(peer), message.algorithm == .ring else { return [] }
        // A node at the largest epoch could never propose a newer one, so no peer may push it there.
        guard message.term < Term.maximum else { return [] }
        suspected.remove(peer)  // It is alive after all.
        switch message {
        case .ringElection(let token): handleElection(token, from: peer)
        case .ringElected(let token): handleElected(token, from: peer)
        case .ringAck(let ack): pending.removeAll { $0.sequence == ack.sequence && $0.target == peer }
        case .ringHeartbeat(let heartbeat): handleHeartbeat(heartbeat, from: peer)
        default: break
        }
        return drainActions()
    }

    public mutating func transferLeadership(to target: NodeID) throws(TransferRefusal) -> [Action] {
        throw .unsupported(algorithm: Self.algorithmName)
    }

    public mutating func shutdown() -> [Action] {
        if role == .leader {
            emit(.steppedDown(.shutdown))
            setRole(.follower)
            setLeader(nil)
        }
        return drainActions()
    }

    // MARK: Handlers

    /// Chang–Roberts: forward the larger of the candidate and our ID, swallow what cannot win,
    /// and win when our own ID comes back.
    mutating func handleElection(_ message: RingElection, from peer: NodeID) {
        send(.ringAck(RingAck(epoch: message.epoch, sequence: message.sequence)), to: peer)
        // An election at or below our epoch has already produced the coordinator we follow.
        guard message.epoch > epoch else { return }
        highestProposal = max(highestProposal, message.epoch)
        if let participation {
            if message.epoch < participation.epoch { return }
            if message.epoch > participation.epoch {
                // A newer election supersedes ours (its token was stranded); take a fresh look.
                self.participation = nil
                suspected.removeAll()
            }
        }
        if message.candidate == id {
            guard let participation, participation.epoch == message.epoch, participation.highest == id else {
                return  // A token of ours from an election we no longer take part in.
            }
            becomeCoordinator(epoch: message.epoch)
            return
        }
        if var participation {
            guard message.candidate > participation.highest else { return }  // Cannot win, or a duplicate.
            participation.highest = message.candidate
            self.participation = participation
            yieldCampaign()
            forward(.election(epoch: message.epoch, origin: message.candidate))
        } else {
            let highest = max(message.candidate, id)
            participation = Participation(epoch: message.epoch, highest: highest, since: now)
            if highest == id { openCampaign(epoch: message.epoch) } else { yieldCampaign() }
            forward(.election(epoch: message.epoch, origin: highest))
        }
    }

    /// The elected message: adopt the coordinator and pass the message on, once.
    mutating func handleElected(_ message: RingElected, from peer: NodeID) {
        send(.ringAck(RingAck(epoch: message.epoch, sequence: message.sequence)), to: peer)
        guard message.coordinator != id else { return }  // It went all the way round.
        guard message.epoch >= epoch else { return }
        if message.epoch == epoch, let coordinator, message.coordinator < coordinator { return }
        let token = RingToken.elected(epoch: message.epoch, origin: message.coordinator)
        guard token != lastElectedForwarded else { return }
        lastElectedForwarded = token
        follow(message.coordinator, epoch: message.epoch)
        forward(token)
    }

    /// A coordinator's heartbeat: the newer (epoch, ID) claim wins, which also merges two sides of
    /// a healed partition without an election.
    mutating func handleHeartbeat(_ heartbeat: RingHeartbeat, from peer: NodeID) {
        let newer = heartbeat.epoch > epoch
            || (heartbeat.epoch == epoch && (coordinator.map { peer > $0 } ?? true))
        if newer || (heartbeat.epoch == epoch && coordinator == peer) {
            follow(peer, epoch: heartbeat.epoch)
        }
    }

    // MARK: Transitions

    /// Starts an election with our own ID, proposing an epoch above any seen.
    mutating func initiate() {
        let proposal = max(epoch, highestProposal).next
        highestProposal = proposal
        suspected.removeAll()
        if role != .leader { setLeader(nil) }
        participation = Participation(epoch: proposal, highest: id, since: now)
        openCampaign(epoch: proposal)
        resetFailureTimer()
        forward(.election(epoch: proposal, origin: id))
    }

    /// Our ID came back: we are the highest live member. Announce it around the ring.
    mutating func becomeCoordinator(epoch proposal: Term) {
        let newEpoch = proposal > epoch ? proposal : max(epoch, highestProposal).next
        if campaignStartedAt != nil { finishCampaign(.won) }
        participation = nil
        epoch = newEpoch
        highestProposal = max(highestProposal, newEpoch)
        emit(.persist(HardState(term: epoch)))
        setRole(.leader)
        setLeader(id)
        heartbeatElapsed = 0
        let token = RingToken.elected(epoch: epoch, origin: id)
        lastElectedForwarded = token
        forward(token)
    }

    /// Accepts `peer` as the coordinator of `newEpoch`.
    mutating func follow(_ peer: NodeID, epoch newEpoch: Term) {
        if role == .leader { emit(.steppedDown(.higherTerm)) }
        if newEpoch > epoch {
            epoch = newEpoch
            emit(.persist(HardState(term: epoch)))
        }
        if let participation, participation.epoch <= newEpoch {
            // The election we took part in is over.
            self.participation = nil
            finishCampaign(.lost)
        }
        setRole(campaignStartedAt == nil ? .follower : .candidate)
        setLeader(peer)
        lastCoordinatorContact = now
        resetFailureTimer()
    }

    mutating func broadcastHeartbeat() {
        heartbeatElapsed = 0
        for peer in membership.peers(of: id) { send(.ringHeartbeat(RingHeartbeat(epoch: epoch)), to: peer) }
    }

    /// Our ID leads the election we take part in: we are a candidate (a coordinator stays leader).
    mutating func openCampaign(epoch proposal: Term) {
        guard role != .leader, campaignStartedAt == nil else { return }
        campaignStartedAt = now
        setRole(.candidate)
        emit(.campaignStarted(.vote, term: proposal))
    }

    /// A higher ID took over the election: our bid is over, we keep forwarding.
    mutating func yieldCampaign() {
        guard campaignStartedAt != nil else { return }
        finishCampaign(.lost)
        if role == .candidate { setRole(.follower) }
    }

    mutating func finishCampaign(_ outcome: CampaignOutcome) {
        guard let startedAt = campaignStartedAt else { return }
        campaignStartedAt = nil
        emit(.campaignFinished(outcome, ticks: now - startedAt))
        if outcome != .won && role == .candidate { setRole(.follower) }
    }

    // MARK: The ring

    /// The first member after `node` in ring order that is not suspected, and the suspected ones
    /// passed on the way; `nil` when the walk comes back to this node (no live successor).
    func nextLive(after node: NodeID) -> (target: NodeID?, passed: [NodeID]) {
        let members = membership.members
        guard let start = members.firstIndex(of: node) else { return (nil, []) }
        var passed: [NodeID] = []
        for step in 1...members.count {
            let member = members[(start + step) % members.count]
            if member == id { return (nil, passed) }
            if !suspected.contains(member) { return (member, passed) }
            passed.append(member)
        }
        return (nil, passed)
    }

    /// Sends `token` to the next live successor.
    mutating func forward(_ token: RingToken) {
        let (target, passed) = nextLive(after: id)
        route(token, to: target, skipping: passed)
    }

    /// Sends `token` to `target`, having given up on the members in `skipped`.
    mutating func route(_ token: RingToken, to target: NodeID?, skipping skipped: [NodeID]) {
        if skipped.contains(token.origin) {
            switch token {
            case .elected:
                // Everyone from the coordinator round to here has it: the circle is complete.
                return
            case .election:
                // The candidate died before its token came home; a newer election supersedes it.
                participation = nil
                initiate()
                return
            }
        }
        guard let target else {
            // Every other member is unreachable: this node is alone.
            if case .election(let proposal, _) = token { becomeCoordinator(epoch: proposal) }
            return
        }
        let sequence = nextSequence
        nextSequence += 1
        pending.append(PendingForward(sequence: sequence, token: token, target: target, sentAt: now))
        send(token.message(sequence: sequence), to: target)
    }

    /// Skips successors that did not acknowledge in time.
    mutating func expireAcknowledgements() {
        let timeout = configuration.ackTimeoutTicks
        guard pending.contains(where: { now - $0.sentAt >= timeout }) else { return }
        let expired = pending.filter { now - $0.sentAt >= timeout }
        pending.removeAll { now - $0.sentAt >= timeout }
        for forward in expired {
            suspected.insert(forward.target)
            guard !isStale(forward.token) else { continue }
            let (target, passed) = nextLive(after: forward.target)
            route(forward.token, to: target, skipping: [forward.target] + passed)
        }
    }

    /// A token that no longer matters: its election is over, or its coordinator was superseded.
    func isStale(_ token: RingToken) -> Bool {
        switch token {
        case .election(let proposal, _): proposal <= epoch || participation?.epoch != proposal
        case .elected(let announced, let origin): announced < epoch || (announced == epoch && origin != coordinator)
        }
    }
}

/// What travels around the ring: an election token or an elected message, and whose it is.
enum RingToken: Hashable, Sendable {
    /// `origin` is the highest candidate the token carries.
    case election(epoch: Term, origin: NodeID)
    /// `origin` is the elected coordinator.
    case elected(epoch: Term, origin: NodeID)

    var origin: NodeID {
        switch self {
        case .election(_, let origin), .elected(_, let origin): origin
        }
    }

    func message(sequence: UInt64) -> Message {
        switch self {
        case .election(let epoch, let candidate):
            .ringElection(RingElection(epoch: epoch, candidate: candidate, sequence: sequence))
        case .elected(let epoch, let coordinator):
            .ringElected(RingElected(epoch: epoch, coordinator: coordinator, sequence: sequence))
        }
    }
}

/// The election (identified by its proposed epoch) a node takes part in.
struct Participation: Equatable, Sendable {
    let epoch: Term
    /// The highest candidate this node has forwarded in it.
    var highest: NodeID
    /// When the node joined it, for the election timeout.
    let since: UInt64
}

/// A token sent to `target` and not yet acknowledged.
struct PendingForward: Equatable, Sendable {
    let sequence: UInt64
    let token: RingToken
    let target: NodeID
    let sentAt: UInt64
}
