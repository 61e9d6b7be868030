/// The Bully election state machine of one node (H. Garcia-Molina, "Elections in a Distributed
/// Computing System", IEEE Trans. Computers C-31(1), 1982): the highest live ID becomes coordinator.
///
/// - A member that misses its coordinator's heartbeats for its failure timeout, or that starts up,
///   holds an election: it sends ``BullyElection`` to every higher ID. If none answers within the
///   answer timeout it is the highest live member and announces itself with ``BullyCoordinator``.
/// - A member receiving an election from a lower ID answers (``BullyAnswer``) and holds its own
///   election — so the election climbs to the top, costing O(n²) messages in the worst case.
///   One refinement keeps concurrent or late elections from setting off election storms: a
///   follower that heard its coordinator within the last two heartbeat intervals knows it is
///   alive and only answers. The asker's election reached that coordinator too (it asks every
///   higher ID), and the coordinator answers it with its announcement.
/// - A member that was answered waits for the announcement; if none comes within the coordinator
///   timeout (the answering member died too), it holds the election again.
/// - A recovering member holds an election at once; if it is the highest, it "bullies its way in"
///   and takes over from the lower coordinator. A member that hears a lower ID claim to coordinate
///   does the same.
///
/// Roles: ``Role/follower`` while following a coordinator (or idle), ``Role/candidate`` while
/// holding an election (waiting for answers, then for the announcement), ``Role/leader`` while it
/// believes it is the coordinator. ``Role/preCandidate`` is never used.
///
/// Epochs: every announcement carries an epoch higher than any the coordinator has seen, so the
/// pair (epoch, ID) orders announcements and stale ones are ignored. The epoch is reported as the
/// term (``NodeStatus/term``, ``LeaderInfo/term``) and persisted, so it never decreases across
/// restarts. Bully has no quorum and no lease: ``NodeStatus/leaseExpiry`` is `UInt64.max` while
/// the node believes it is coordinator, so ``NodeStatus/holdsLease`` means exactly that belief —
/// which is what lets the simulator measure Bully's split brain.
public struct BullyNode: ElectionAlgorithm, CoordinatorElection {
    public static let algorithmName = "bully"

    public let id: NodeID
    public let membership: Membership
    public let configuration: BullyConfiguration

    /// The epoch of the coordinator this node follows or is; persisted as `HardState.term`.
    var epoch: Term
    /// The highest epoch seen in any message; a new coordinator announces the one after it.
    var highestSeen: Term
    var role: Role = .follower
    var coordinator: NodeID?
    var reportedLeader: LeaderInfo?
    var random: SplitMix64

    /// Logical ticks since start.
    var now: UInt64 = 0
    /// Whether the start-up election has been considered (on the first tick).
    var started = false
    /// Ticks since the coordinator was last heard, and the randomized timeout it runs to.
    var silence: UInt64 = 0
    var failureTimeout: UInt64 = 0
    var lastCoordinatorContact: UInt64?
    var heartbeatElapsed: UInt64 = 0
    var election: HeldElection?

    /// Pending actions of the event being handled.
    var actions: [Action] = []

    /// Creates a node from its durable state, as on first start or after a crash.
    public init(
        id: NodeID, membership: Membership, configuration: BullyConfiguration = .init(),
        hardState: HardState = .initial, random: SplitMix64
    ) {
        precondition(membership.contains(id), "node \(id) is not in its own membership")
        precondition((try? configuration.validate()) != nil, "invalid BullyConfiguration: validate() it first")
        self.id = id
        self.membership = membership
        self.configuration = configuration
        self.epoch = hardState.term
        self.highestSeen = hardState.term
        self.random = random
        resetFailureTimer()
    }

    public var status: NodeStatus { coordinatorStatus }

    var failureTimeoutTicks: UInt64 { configuration.failureTimeoutTicks }

    public var preferredTransferTarget: NodeID? { nil }

    /// The members that outrank this one, in ascending order.
    var higherMembers: [NodeID] { membership.members.filter { $0 > id } }

    // MARK: Inputs

    public mutating func tick() -> [Action] {
        now += 1
        if !started {
            started = true
            // A process that comes up holds an election (Garcia-Molina §4), unless it already
            // follows a higher coordinator that announced itself before this first tick.
            if role == .follower && election == nil && !(coordinator.map { $0 > id } ?? false) {
                startElection()
                return drainActions()
            }
        }
        switch role {
        case .leader:
            heartbeatElapsed += 1
            if heartbeatElapsed >= configuration.heartbeatIntervalTicks { broadcastHeartbeat() }
        case .candidate:
            guard let election else { break }
            if let answeredAt = election.answeredAt {
                if now - answeredAt >= configuration.coordinatorTimeoutTicks {
                    // Answered, but no announcement: the answering member died. Try again.
                    finishCampaign(.timedOut)
                    startElection()
                }
            } else if now - election.roundStartedAt >= configuration.answerTimeoutTicks {
                becomeCoordinator()
            }
        case .follower, .preCandidate:
            silence += 1
            if silence >= failureTimeout { startElection() }
        }
        return drainActions()
    }

    public mutating func receive(_ message: Message, from peer: NodeID) -> [Action] {
        guard peer != id, membership.contains(peer), message.algorithm == .bully else { return [] }
        // A node at the largest epoch could never announce a newer one, so no peer may push it there.
        guard message.term < Term.maximum else { return [] }
        switch message {
        case .bullyElection(let election): handleElection(election, from: peer)
        case .bullyAnswer(let answer): handleAnswer(answer, from: peer)
        case .bullyCoordinator(let announcement): handleClaim(epoch: announcement.epoch, from: peer)
        case .bullyHeartbeat(let heartbeat): handleClaim(epoch: heartbeat.epoch, from: peer)
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

    /// An election held by a lower member: answer it, then take it over (Garcia-Molina §4). A
    /// coordinator already is the answer, so it repeats its announcement to the asker instead.
    mutating func handleElection(_ message: BullyElection, from peer: NodeID) {
        highestSeen = max(highestSeen, message.epoch)
        // Only lower members hold elections at us; anything else is a confused peer.
        guard peer < id else { return }
        send(.bullyAnswer(BullyAnswer(epoch: highestSeen)), to: peer)
        switch role {
        case .leader:
            if message.epoch > epoch {
                // The asker has seen a newer epoch than ours and would ignore our announcement.
                announce()
            } else {
                send(.bullyCoordinator(BullyCoordinator(epoch: epoch)), to: peer)
            }
        case .candidate:
            break  // Our own election is already climbing.
        case .follower, .preCandidate:
            if !hearsCoordinator { startElection() }
        }
    }

    /// Whether the coordinator was heard within the last two heartbeat intervals: it is alive,
    /// so a lower member's election needs no takeover from us (the coordinator answers it).
    var hearsCoordinator: Bool {
        guard let coordinator, coordinator != id, let last = lastCoordinatorContact else { return false }
        return now - last <= 2 * configuration.heartbeatIntervalTicks
    }

    mutating func handleAnswer(_ answer: BullyAnswer, from peer: NodeID) {
        highestSeen = max(highestSeen, answer.epoch)
        guard peer > id, var election, election.answeredAt == nil else { return }
        election.answeredAt = now
        self.election = election
    }

    /// An announcement or a heartbeat: `peer` claims to coordinate `epoch`.
    mutating func handleClaim(epoch claimed: Term, from peer: NodeID) {
        highestSeen = max(highestSeen, claimed)
        if peer > id {
            // A newer epoch wins; within one epoch the higher ID does (two sides of a partition
            // may both have announced the epoch after the one they shared).
            let newer = claimed > epoch || (claimed == epoch && (coordinator.map { peer >= $0 } ?? true))
            if newer { follow(peer, epoch: claimed) }
            return
        }
        // A lower member claims to coordinate. We are alive and outrank it: bully it, unless the
        // claim is older than what we already follow.
        guard claimed >= epoch else { return }
        switch role {
        case .leader: announce()
        case .candidate: break
        case .follower, .preCandidate: startElection()
        }
    }

    // MARK: Transitions

    /// Holds an election: ask every higher member; with none, this node is the highest and wins.
    mutating func startElection() {
        election = HeldElection(startedAt: now, roundStartedAt: now)
        setRole(.candidate)
        setLeader(nil)
        emit(.campaignStarted(.vote, term: max(epoch, highestSeen).next))
        let higher = higherMembers
        if higher.isEmpty {
            becomeCoordinator()
            return
        }
        for member in higher { send(.bullyElection(BullyElection(epoch: highestSeen)), to: member) }
    }

    /// No higher member answered in time: this node coordinates.
    mutating func becomeCoordinator() {
        if election != nil { finishCampaign(.won) }
        announce()
    }

    /// Announces a new epoch to every member, becoming (or staying) coordinator.
    mutating func announce() {
        epoch = max(epoch, highestSeen).next
        highestSeen = epoch
        emit(.persist(HardState(term: epoch)))
        coordinator = id
        setRole(.leader)
        setLeader(id)
        heartbeatElapsed = 0
        for peer in membership.peers(of: id) { send(.bullyCoordinator(BullyCoordinator(epoch: epoch)), to: peer) }
    }

    /// Accepts `peer` as the coordinator of `newEpoch`.
    mutating func follow(_ peer: NodeID, epoch newEpoch: Term) {
        if election != nil { finishCampaign(.lost) }
        if role == .leader { emit(.steppedDown(.higherTerm)) }
        if newEpoch > epoch {
            epoch = newEpoch
            emit(.persist(HardState(term: epoch)))
        }
        coordinator = peer
        setRole(.follower)
        setLeader(peer)
        lastCoordinatorContact = now
        resetFailureTimer()
    }

    mutating func broadcastHeartbeat() {
        heartbeatElapsed = 0
        for peer in membership.peers(of: id) { send(.bullyHeartbeat(BullyHeartbeat(epoch: epoch)), to: peer) }
    }

    /// Closes the election, reporting how it ended and how long it took (for election metrics).
    mutating func finishCampaign(_ outcome: CampaignOutcome) {
        guard let election else { return }
        self.election = nil
        emit(.campaignFinished(outcome, ticks: now - election.startedAt))
    }
}

/// An election this node is holding.
struct HeldElection: Equatable, Sendable {
    /// When the campaign began, for ``Action/campaignFinished(_:ticks:)``.
    let startedAt: UInt64
    /// When the election messages of this round went out; answers are awaited from here.
    let roundStartedAt: UInt64
    /// When the first answer arrived; the announcement is awaited from here.
    var answeredAt: UInt64?

    init(startedAt: UInt64, roundStartedAt: UInt64) {
        self.startedAt = startedAt
        self.roundStartedAt = roundStartedAt
    }
}
