/// The Raft leader-election state machine of one node (Raft §5.2, §5.4.1; thesis §3.10, §6.2, §9.6).
///
/// A value type with no I/O: time arrives as ``tick()``, messages as ``receive(_:from:)``, and every
/// effect leaves as an ``Action``. Carry out the actions in order, and make each ``Action/persist(_:)``
/// durable before executing anything after it.
public struct RaftNode: ElectionAlgorithm, ActionBuffering {
    public static let algorithmName = "raft"

    public let id: NodeID
    public let membership: Membership
    public let configuration: RaftConfiguration

    var hardState: HardState
    /// What this node is doing, with the state only that role has (thesis Figure 3.1's roles).
    var roleState: RoleState = .follower(leader: nil)
    var random: SplitMix64

    /// Logical ticks since start.
    var now: UInt64 = 0
    /// Ticks since the election timer was last reset, and the randomized timeout it runs to.
    var electionElapsed: UInt64 = 0
    var randomizedElectionTimeout: UInt64 = 0
    /// Votes are refused (leader stickiness) while `now < stickyUntil`. Starts at T so that a node
    /// restarting inside a leader's lease cannot break the promise it made before crashing.
    var stickyUntil: UInt64
    /// The leadership (leader and term) that `stickyUntil` and `promiseUntil` were last extended for.
    var promisedTo: LeaderInfo?
    /// Until this tick no other leader gets lease credit from this node on the strength of its
    /// acknowledgements to `promisedTo` (``RaftConfiguration/leasePromiseTicks`` after each
    /// heartbeat: about T with the longest lease, less with a shorter one). Folded into
    /// `successionClearAt` when the leadership changes.
    var promiseUntil: UInt64
    /// Lease succession: the end of the promises this node made to *earlier* leaderships (and of
    /// the lease it published itself, if it led). Until this tick its acknowledgements give its
    /// current leader no lease credit, and a lease of its own does not begin — so a new lease never
    /// starts while a predecessor's published deadline, which its sidecar's keeper acts on, still
    /// runs, even when stickiness was waived for a transfer or a crashed leader. Starts like
    /// `stickyUntil`: a restarted node may have made promises it no longer knows.
    var successionClearAt: UInt64
    /// The promise last folded into `successionClearAt`, with the value before, so that its
    /// leader's release (see ``leaseReleased(term:)``) can take it out again.
    var releasableFold: ReleasableFold?
    /// A leadership whose lease was released before its promise was folded: the fold skips it.
    var releasedLeadership: LeaderInfo?
    /// The last term this node led: the only one whose lease it can release.
    var ledTerm: Term?
    var lastLeaderContact: UInt64?
    /// The leader whose process the shell reported gone (see ``peerUnreachable(_:)``); cleared by
    /// any sign of a live leader.
    var goneLeader: NodeID?
    var leaderGoneEvidence: Bool { goneLeader != nil }
    /// Whether this evidence's one quick retry after a split vote was used
    /// (see ``noticeCompetingCandidate(in:)``).
    var quickRetryUsed = false

    /// A follower's view of its leader's heartbeats: the newest sequence and the announced transfer.
    var followerView = FollowerView()
    /// A transfer this node started, kept after it stepped down until the target leads or T passes.
    var transfer: Transfer?

    /// Issue 15: whether this node may lead, and its priority (the shell keeps `eligible` on disk).
    var candidacy: Candidacy
    /// A resignation's hold-off: no campaign and no transfer accepted before this tick.
    var holdOffUntil: UInt64 = 0
    /// The hold-off a pending resignation asked for; it starts when this node stops leading.
    var pendingHoldOff: UInt64?

    /// Pending actions of the event being handled.
    var actions: [Action] = []

    /// Creates a node from its durable state, as on first start or after a crash.
    public init(
        id: NodeID, membership: Membership, configuration: RaftConfiguration = .init(),
        hardState: HardState = .initial, candidacy: Candidacy = .default, random: SplitMix64
    ) {
        precondition(membership.contains(id), "node \(id) is not in its own membership")
        precondition((try? configuration.validate()) != nil, "invalid RaftConfiguration: validate() it first")
        self.id = id
        self.membership = membership
        self.configuration = configuration
        self.hardState = hardState
        self.candidacy = candidacy
        self.random = random
        self.stickyUntil = configuration.leaderStickiness ? configuration.electionTimeoutTicks : 0
        self.successionClearAt = stickyUntil
        self.promiseUntil = stickyUntil
        resetElectionTimer()
    }

    public var status: NodeStatus {
        NodeStatus(
            id: id, role: role, term: hardState.term, votedFor: hardState.votedFor, leader: leader,
            lastLog: hardState.lastLog, now: now,
            ticksSinceLeaderContact: role == .leader ? 0 : lastLeaderContact.map { now - $0 },
            leaseExpiry: leaseExpiry, transferTarget: transfer?.target, candidacy: reportedCandidacy)
    }

    public var peers: [NodeID] { membership.peers(of: id) }

    var role: Role { roleState.role }
    /// The leader this node knows in its term: itself while leading.
    var leader: NodeID? {
        switch roleState {
        case .follower(let leader): leader
        case .preCandidate, .candidate: nil
        case .leader: id
        }
    }
    var campaign: Campaign? {
        switch roleState {
        case .preCandidate(let campaign), .candidate(let campaign): campaign
        case .follower, .leader: nil
        }
    }
    var leaderState: LeaderState? {
        if case .leader(let state) = roleState { return state }
        return nil
    }

    // MARK: Inputs

    public mutating func tick() -> [Action] {
        now += 1
        electionElapsed += 1
        creditNewestHeartbeatIfClear()
        switch roleState {
        case .leader(let state):
            tickLeader(state)
        case .follower, .preCandidate, .candidate:
            if electionElapsed >= randomizedElectionTimeout {
                if mayLead {
                    if let campaign { finishCampaign(campaign, .timedOut) }
                    startCampaign(transfer: false)
                } else if role == .follower {
                    resetElectionTimer()  // Issue 15: not a candidate now; the timer just runs again.
                } else {
                    becomeFollower(term: hardState.term, leader: nil)
                }
            }
        }
        expireTransfer()
        return drainActions()
    }

    /// The election timer for non-leaders; for a leader, the next heartbeat or the tick its quorum
    /// would go stale (CheckQuorum); and a running transfer's expiry. Mirrors ``tick()``.
    public var ticksUntilTimer: UInt64 {
        var due: UInt64  // The first tick (a value of `now`) at which `tick()` may act.
        if case .leader(let state) = roleState {
            let interval = configuration.heartbeatIntervalTicks
            due = now + (state.heartbeatElapsed < interval ? interval - state.heartbeatElapsed : 1)
            if configuration.checkQuorum, let lost = quorumLostAt(state) { due = min(due, lost) }
            // The lease may begin at this tick without any message: wake for it.
            if state.leaseNotBefore > now { due = min(due, state.leaseNotBefore) }
        } else {
            let timeout = randomizedElectionTimeout
            due = now + (electionElapsed < timeout ? timeout - electionElapsed : 1)
            // A withheld credit is given when the succession bound passes (at the next tick if it
            // passed while this node could not give it, say as a pre-candidate): wake for it.
            if withheldCreditLeader != nil { due = min(due, max(successionClearAt, now + 1)) }
        }
        if let transfer { due = min(due, transfer.startedAt + configuration.electionTimeoutTicks) }
        return due > now ? due - now : 1
    }

    public mutating func receive(_ message: Message, from peer: NodeID) -> [Action] {
        guard peer != id, membership.contains(peer) else { return [] }
        // Bully and Ring messages mean nothing here; their epochs are not Raft terms.
        guard message.algorithm == .raft else { return [] }
        // A node at the largest term could never campaign again, so no peer may push it there.
        guard message.term < Term.maximum else { return [] }
        if case .leaseReleased(let released) = message {
            // About a past leadership, whatever term the sender or we are in now: no term prelude.
            handleLeaseReleased(released, from: peer)
        } else {
            step(message, from: peer)
        }
        return drainActions()
    }

    /// Issue 7 fast failover: if `peer` is our leader, campaign after a short random stagger rather
    /// than the full election timeout. Voters grant only if they have lost the leader too, so a
    /// single flapping connection cannot depose a healthy leader.
    public mutating func peerUnreachable(_ peer: NodeID) -> [Action] {
        guard configuration.fastFailover, role == .follower, leader == peer, !leaderGoneEvidence else { return [] }
        goneLeader = peer
        quickRetryUsed = false
        // The evidence still lets this node waive stickiness for others; it only may not campaign.
        guard mayLead else { return [] }
        randomizedElectionTimeout = min(randomizedElectionTimeout, electionElapsed + slotDelay(after: peer))
        if electionElapsed >= randomizedElectionTimeout { startCampaign(transfer: false) }
        return drainActions()
    }

    /// Ticks from now to this node's campaign slot after `gone` died: the survivors (sorted by ID)
    /// campaign one slot apart, so the first one's vote requests usually arrive before the next one
    /// starts, with random jitter inside the slot to break ties. Never later than a normal timeout
    /// would be (callers take the minimum).
    mutating func slotDelay(after gone: NodeID) -> UInt64 {
        let slot = configuration.fastFailoverStaggerTicks
        let rank = UInt64(membership.peers(of: gone).firstIndex(of: id) ?? 0)
        return rank * (slot + 1) + UInt64.random(in: 0...slot, using: &random)
    }

    public mutating func transferLeadership(to target: NodeID) throws(TransferRefusal) -> [Action] {
        guard role == .leader else { throw .notLeader(knownLeader: leader) }
        guard target != id else { throw .targetIsSelf }
        guard membership.contains(target) else { throw .unknownTarget(target) }
        if let transfer { throw .alreadyTransferring(to: transfer.target) }
        if leaderState?.candidacy[target]?.eligible == false { throw .targetIneligible(target) }
        startTransfer(to: target, reason: .requested)
        return drainActions()
    }

    public mutating func shutdown() -> [Action] {
        if role == .leader {
            stepDown(.shutdown)
            becomeFollower(term: hardState.term, leader: nil)
        }
        return drainActions()
    }

    /// The best eligible follower (see ``successor``).
    public var preferredTransferTarget: NodeID? { successor }

    // MARK: Internals shared by the role files


    mutating func persist() { emit(.persist(hardState)) }

    /// Raft §5.2: a fresh timeout from [T, 2T) so that split votes are unlikely to repeat.
    mutating func resetElectionTimer() {
        electionElapsed = 0
        randomizedElectionTimeout = random.randomizedTimeout(base: configuration.electionTimeoutTicks)
    }

    /// Announces that the known leader changed (the caller has already moved ``roleState``): a
    /// known leader clears the evidence of its death, and a running transfer ends with it.
    mutating func announceLeader(_ newLeader: NodeID?) {
        if newLeader != nil { goneLeader = nil }
        emit(.leaderChanged(newLeader.map { LeaderInfo(id: $0, term: hardState.term) }))
        if let transfer, let newLeader, newLeader != id {
            finishTransfer(transfer, newLeader == transfer.target ? .completed : .abandoned)
        }
    }

    /// Moves to `next`, announcing a new role and then a new leader, in that order.
    mutating func transition(to next: RoleState) {
        let (oldRole, oldLeader) = (role, leader)
        roleState = next
        if role != oldRole { emit(.roleChanged(role, term: hardState.term)) }
        if leader != oldLeader { announceLeader(leader) }
    }

    /// Moves to `term` (if higher) as a follower of `leader`, clearing any campaign or leadership.
    mutating func becomeFollower(term: Term, leader newLeader: NodeID?) {
        if let campaign { finishCampaign(campaign, .lost) }
        let oldRole = role
        if oldRole == .leader {
            // Every deadline this node published was a heartbeat's send tick (≤ now) plus the lease
            // — owed unless its holders already released it.
            let own = LeaderInfo(id: id, term: hardState.term)
            if releasedLeadership != own {
                fold(own, until: now + configuration.leaseTicks)
            }
            promisedTo = own
        }
        if oldRole == .leader, let holdOff = pendingHoldOff {
            // A resignation's hold-off runs from the moment leadership ends.
            pendingHoldOff = nil
            holdOffUntil = now + holdOff
        }
        var announced = leader
        if term > hardState.term {
            hardState.term = term
            hardState.votedFor = nil
            persist()
            followerView = FollowerView()
            // The old term's leader is gone before anyone of the new term is known.
            if announced != nil {
                announced = nil
                announceLeader(nil)
            }
        }
        roleState = .follower(leader: newLeader)
        if oldRole != .follower { emit(.roleChanged(.follower, term: hardState.term)) }
        if newLeader != announced { announceLeader(newLeader) }
        resetElectionTimer()
    }
}

/// The roles of thesis Figure 3.1 (with PreVote's pre-candidate, §9.6), each with the state that
/// only it has, so that a leader without leader state or a candidate without a campaign cannot be
/// written down.
enum RoleState: Equatable, Sendable {
    /// Follows `leader`, or nobody yet.
    case follower(leader: NodeID?)
    case preCandidate(Campaign)
    case candidate(Campaign)
    case leader(LeaderState)

    var role: Role {
        switch self {
        case .follower: .follower
        case .preCandidate: .preCandidate
        case .candidate: .candidate
        case .leader: .leader
        }
    }
}

/// A campaign in progress: the phase, when it began, and the votes counted so far.
struct Campaign: Equatable, Sendable {
    var phase: CampaignPhase
    let startedAt: UInt64
    let isTransfer: Bool
    var granted: Set<NodeID>
    var rejected: Set<NodeID> = []
}

/// What only a leader tracks.
struct LeaderState: Equatable, Sendable {
    /// Issue 15: each peer's candidacy as its latest acknowledgement reported it.
    var candidacy: [NodeID: Candidacy] = [:]
    /// Since when each peer has been eligible, caught up and answering without a gap longer than
    /// ``RaftConfiguration/healthGapTicks``; absent while it is not.
    var healthySince: [NodeID: UInt64] = [:]
    /// No preemptive hand-over before this tick (one per window, also after one that failed).
    var preemptNotBefore: UInt64 = 0
    /// Since when every peer has answered within the health gap, as seen on heartbeat ticks.
    var everyoneAnsweringSince: UInt64?
    /// An ineligible leader's next attempt to hand over, after one that failed.
    var handoverNotBefore: UInt64 = 0
    var heartbeatElapsed: UInt64 = 0
    var nextSequence: UInt64 = 1
    /// Sequences below this do not count for the lease (acks from before a transfer was aborted).
    var leaseMinSequence: UInt64 = 1
    /// The holders released this term's lease: it never begins again in this term.
    var leaseReleased = false
    /// No lease before this tick: the end of this node's own promises to earlier leaderships
    /// (``RaftNode/successionClearAt`` when it won).
    var leaseNotBefore: UInt64 = 0
    /// Recent heartbeat broadcasts, oldest first, so an acknowledgement maps back to its send tick.
    var sent: [SentHeartbeat] = []
    /// The send tick of the newest heartbeat each peer acknowledged (lease evidence).
    var ackedSendTick: [NodeID: UInt64] = [:]
    /// When each peer was last heard from (CheckQuorum evidence).
    var lastHeard: [NodeID: UInt64] = [:]
    /// Each peer's last known log position (who is up to date, for a transfer).
    var match: [NodeID: LogPosition] = [:]
}

/// A promise folded into ``RaftNode/successionClearAt``: whose it was and the value before it.
struct ReleasableFold: Equatable, Sendable {
    let leadership: LeaderInfo
    let clearAtBefore: UInt64
}

struct SentHeartbeat: Equatable, Sendable {
    let sequence: UInt64
    let tick: UInt64
}

/// A follower's memory of its current leader's heartbeats.
struct FollowerView: Equatable, Sendable {
    var newestSequence: UInt64 = 0
    /// The transfer target the newest heartbeat announced, if any.
    var announcedTransferTarget: NodeID?
    /// The newest heartbeat was acknowledged without lease credit (an earlier promise still ran):
    /// it is credited the moment that promise ends or is released.
    var creditWithheld = false
    /// A TimeoutNow arrived before the heartbeat announcing this node as the target.
    var timeoutNowAwaitsAnnouncement = false
}

/// A leadership transfer this node started (thesis §3.10).
struct Transfer: Equatable, Sendable {
    let target: NodeID
    let startedAt: UInt64
    var reason: TransferReason
    var timeoutNowSent = false
}
