import BallotCore
import BallotTestKit
import Testing

// Shared helpers for the BallotCore tests: node construction, action queries, and `RaftCluster`,
// BallotTestKit's in-memory cluster of Raft cores that checks the core's contracts after every step.

// MARK: - Construction

/// The election timeout T most tests use. Heartbeats go out every tick.
let T: UInt64 = 10

func raftConfig(
    electionTimeout: UInt64 = T, heartbeat: UInt64 = 1, preVote: Bool = true, checkQuorum: Bool = true,
    stickiness: Bool = true, drift: Double = 0.05
) -> RaftConfiguration {
    RaftConfiguration(
        electionTimeoutTicks: electionTimeout, heartbeatIntervalTicks: heartbeat, preVote: preVote,
        checkQuorum: checkQuorum, leaderStickiness: stickiness, clockDriftBound: drift)
}

func nodeID(_ value: Int) -> NodeID { NodeID(UInt64(value))! }

/// Members 1…n.
func cluster(_ size: Int) -> Membership { Membership((1...size).map(nodeID)) }

func makeNode(
    _ id: NodeID, of size: Int, config: RaftConfiguration = raftConfig(), seed: UInt64 = 1,
    hardState: HardState = .initial
) -> RaftNode {
    RaftNode(
        id: id, membership: cluster(size), configuration: config, hardState: hardState,
        random: SplitMix64(seed: seed &* 1_000_003 &+ id.rawValue))
}

/// The first seed from 1 on for which `build` gives a value: scenarios that need a particular random
/// draw (say, a timer that does not fire too soon) pick their seed this way, deterministically.
func firstSeed<Value>(_ build: (UInt64) -> Value?) -> Value {
    for seed in UInt64(1)...1_000 {
        if let value = build(seed) { return value }
    }
    preconditionFailure("no seed in 1...1000 fits the scenario")
}

/// A fresh node whose first election timeout is at least T + 2 ticks away.
func lateNode(
    _ id: NodeID, of size: Int, config: RaftConfiguration = raftConfig(), hardState: HardState = .initial
) -> RaftNode {
    firstSeed { seed in
        let node = makeNode(id, of: size, config: config, seed: seed, hardState: hardState)
        guard let timeout = node.ticksUntilTimeout, timeout >= config.electionTimeoutTicks + 2 else { return nil }
        return node
    }
}

/// A follower past the start-up stickiness window: a ``lateNode(_:of:config:hardState:)`` that has
/// ticked exactly T times, so its timer has not fired yet.
func awakeFollower(
    _ id: NodeID, of size: Int, config: RaftConfiguration = raftConfig(), hardState: HardState = .initial
) -> RaftNode {
    var node = lateNode(id, of: size, config: config, hardState: hardState)
    _ = node.tick(times: config.electionTimeoutTicks)
    return node
}

/// Elects `id` by hand: ticks it until it campaigns, then feeds it the fewest (pre-)vote grants that
/// make a quorum, from its lowest-numbered peers.
/// Lease succession's basic case: follower 3 of 3 acknowledged leader 1 of term 1 (sequence 7), then
/// leader 2 of term 2 (elected with stickiness waived, say by a transfer) sent its first heartbeat.
/// Returns the follower, the log position used, the tick of the promise to leader 1, and what the
/// follower did with leader 2's heartbeat.
func followerOwingAnEarlierPromise() -> (RaftNode, log: LogPosition, promisedAt: UInt64, early: [Action]) {
    var follower = awakeFollower(3, of: 3)
    let log = LogPosition(index: 1, term: 1)
    _ = follower.receive(.heartbeat(Heartbeat(term: 1, sequence: 7, leaderLog: log)), from: 1)
    let promisedAt = follower.status.now
    let early = follower.receive(.heartbeat(Heartbeat(term: 2, sequence: 1, leaderLog: log)), from: 2)
    return (follower, log, promisedAt, early)
}

func handElectedLeader(
    _ id: NodeID = 1, of size: Int, config: RaftConfiguration = raftConfig(), seed: UInt64 = 1,
    hardState: HardState = .initial
) throws -> RaftNode {
    var node = makeNode(id, of: size, config: config, seed: seed, hardState: hardState)
    _ = try node.tickToCampaign()
    let term = hardState.term.next
    let voters = Array(node.peers.prefix(node.membership.quorum - 1))
    if config.preVote && node.status.role == .preCandidate {
        for voter in voters { _ = node.receive(.preVoteResponse(VoteResponse(term: term, granted: true)), from: voter) }
    }
    for voter in voters where node.status.role == .candidate {
        _ = node.receive(.voteResponse(VoteResponse(term: term, granted: true)), from: voter)
    }
    try #require(node.status.role == .leader)
    try #require(node.status.term == term)
    return node
}

extension RaftNode {
    /// Ticks `count` times and returns every action, in order.
    mutating func tick(times count: UInt64) -> [Action] {
        var all: [Action] = []
        for _ in 0..<count { all += tick() }
        return all
    }

    /// Ticks until a campaign starts; returns the ticks taken and the actions of that last tick.
    mutating func tickUntilCampaign(limit: UInt64 = 1_000) -> (ticks: UInt64, actions: [Action])? {
        for ticks in 1...limit {
            let actions = tick()
            if actions.contains(where: { $0.campaignPhase != nil }) { return (ticks, actions) }
        }
        return nil
    }

    /// Ticks until a campaign starts, recording a failure if none starts within 1000 ticks.
    mutating func tickToCampaign(
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> (ticks: UInt64, actions: [Action]) {
        let fired = tickUntilCampaign()
        return try #require(fired, "the election timer never fired", sourceLocation: sourceLocation)
    }

    /// How many ticks from now the election timer fires, measured on a copy (the node is a value).
    var ticksUntilTimeout: UInt64? {
        var copy = self
        return copy.tickUntilCampaign()?.ticks
    }
}

// MARK: - Action queries

/// A sent message and its destination, comparable in expectations.
struct Sent: Hashable, CustomStringConvertible {
    var message: Message
    var to: NodeID
    var description: String { "\(message.kind)(term \(message.term)) → \(to)" }
}

extension Action {
    var sent: Sent? {
        if case .send(let message, let to) = self { return Sent(message: message, to: to) }
        return nil
    }

    var persisted: HardState? {
        if case .persist(let state) = self { return state }
        return nil
    }

    /// The phase of a `.campaignStarted`, if this is one.
    var campaignPhase: CampaignPhase? {
        if case .campaignStarted(let phase, _) = self { return phase }
        return nil
    }

    var campaignOutcome: CampaignOutcome? {
        if case .campaignFinished(let outcome, _) = self { return outcome }
        return nil
    }
}

extension Array where Element == Action {
    var sends: [Sent] { compactMap(\.sent) }
    var persists: [HardState] { compactMap(\.persisted) }
    func messages(to peer: NodeID) -> [Message] { sends.filter { $0.to == peer }.map(\.message) }
    func messages(of kind: MessageKind) -> [Sent] { sends.filter { $0.message.kind == kind } }
    var stepDowns: [StepDownReason] {
        compactMap { if case .steppedDown(let reason) = $0 { reason } else { nil } }
    }
    var transferOutcomes: [TransferOutcome] {
        compactMap { if case .transferFinished(_, let outcome) = $0 { outcome } else { nil } }
    }
    var campaignEvents: [Action] {
        filter {
            switch $0 {
            case .campaignStarted, .campaignFinished: true
            default: false
            }
        }
    }
}

// MARK: - Clusters

/// A cluster of Raft cores from BallotTestKit, delivering everything each tick causes and checking
/// the core's contracts after every batch.
typealias RaftCluster = CoreCluster<RaftNode>

extension CoreCluster where Node == RaftNode {
    /// `size` nodes with the tests' default configuration (T = 10, heartbeats every tick).
    init(size: Int, seed: UInt64) {
        self.init(size: size, config: raftConfig(), seed: seed)
    }

    static func elected(size: Int, leader: NodeID = 1) throws -> Self {
        try elected(size: size, config: raftConfig(), leader: leader)
    }
}

extension Array where Element == Action {
    var leaderChanges: [LeaderInfo?] {
        compactMap { if case .leaderChanged(let info) = $0 { .some(info) } else { nil } }
    }
    var roles: [Role] {
        compactMap { if case .roleChanged(let role, _) = $0 { role } else { nil } }
    }
}
