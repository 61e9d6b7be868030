import BallotRuntime
import BallotCore
import Testing

// Shared helpers for the BallotCore tests: node construction, action queries, and `Network`, a tiny
// deterministic in-memory router with cut/isolate controls that checks invariants after every step.

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

// MARK: - Network harness

/// A message on its way from one node to another.
struct Envelope: Hashable, CustomStringConvertible {
    var from: NodeID
    var to: NodeID
    var message: Message
    var description: String { "\(from)→\(to) \(message.kind)(term \(message.term))" }
}

/// One action one node produced, with the node's logical time: the unit of the recorded history.
struct Event: Hashable, CustomStringConvertible {
    var node: NodeID
    var now: UInt64
    var action: Action
    var description: String { "[\(now)] \(node): \(action)" }
}

/// A deterministic in-memory cluster: nodes tick in ascending id order, messages are delivered FIFO,
/// and directed links can be cut. Every batch of actions is checked against the core's contracts
/// (persist-before-send, campaign pairing, election safety, one lease holder); breaches are collected in
/// `violations`, which every scripted test expects to stay empty.
struct Network {
    private(set) var nodes: [NodeID: RaftNode] = [:]
    let ids: [NodeID]
    private(set) var inFlight: [Envelope] = []
    private(set) var history: [Event] = []
    private(set) var violations: [String] = []
    /// Messages delivered (not dropped) so far.
    private(set) var delivered = 0
    /// Probability that a message is lost in flight, decided by `faultRandom`.
    var lossRate = 0.0
    var faultRandom = SplitMix64(seed: 0xFA17)

    private var blocked: Set<Link> = []
    /// The last hard state each node made durable: what survives a crash.
    private var durable: [NodeID: HardState] = [:]
    /// Each node's open campaign: when it began, by the node's own clock, and its current phase.
    private var openCampaign: [NodeID: (startedAt: UInt64, phase: CampaignPhase)] = [:]
    private var leaderOfTerm: [Term: NodeID] = [:]

    private struct Link: Hashable {
        var from: NodeID
        var to: NodeID
    }

    init(nodes: [RaftNode]) {
        ids = nodes.map(\.id).sorted()
        for node in nodes {
            self.nodes[node.id] = node
            durable[node.id] = HardState(
                term: node.status.term, votedFor: node.status.votedFor, lastLog: node.status.lastLog)
        }
    }

    /// `size` nodes with the same configuration; each node's generator is split from one seed.
    init(size: Int, config: RaftConfiguration = raftConfig(), seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let members = cluster(size)
        self.init(nodes: members.members.map {
            RaftNode(id: $0, membership: members, configuration: config, random: random.split())
        })
    }

    /// A network whose node `leader` has the strictly earliest first timeout (the first seed from 1 on
    /// that gives it), run until `leader` has won and everyone follows it.
    static func elected(
        size: Int, config: RaftConfiguration = raftConfig(), leader: NodeID = 1
    ) throws -> Network {
        for seed in UInt64(1)...1_000 {
            let candidate = Network(size: size, config: config, seed: seed)
            let timeouts = candidate.ids.map { candidate.nodes[$0]!.ticksUntilTimeout ?? .max }
            let mine = timeouts[candidate.ids.firstIndex(of: leader)!]
            guard timeouts.filter({ $0 <= mine }).count == 1 else { continue }
            var network = candidate
            let ticks = network.runUntil(maxTicks: 3 * Int(config.electionTimeoutTicks)) { net in
                net.leaders == [leader] && net.ids.allSatisfy { $0 == leader || net.status($0).leader == leader }
            }
            try #require(ticks != nil, "seed \(seed): node \(leader) did not win its first election")
            return network
        }
        throw HarnessError.noSeed
    }

    enum HarnessError: Error { case noSeed }

    // MARK: Inspection

    func status(_ id: NodeID) -> NodeStatus { nodes[id]!.status }
    func node(_ id: NodeID) -> RaftNode { nodes[id]! }
    var leaders: [NodeID] { ids.filter { status($0).role == .leader } }
    var leaseHolders: [NodeID] { ids.filter { status($0).holdsLease } }
    var terms: [Term] { ids.map { status($0).term } }
    /// A position in the history, to look at what happened after it.
    var mark: Int { history.count }
    func actions(of id: NodeID, since mark: Int = 0) -> [Action] {
        history[mark...].filter { $0.node == id }.map(\.action)
    }

    // MARK: Faults

    mutating func cut(_ a: NodeID, _ b: NodeID) {
        blocked.insert(Link(from: a, to: b))
        blocked.insert(Link(from: b, to: a))
    }

    mutating func cutOneWay(from: NodeID, to: NodeID) { blocked.insert(Link(from: from, to: to)) }

    mutating func isolate(_ id: NodeID) {
        for other in ids where other != id { cut(id, other) }
    }

    mutating func heal() { blocked.removeAll() }

    // MARK: Driving

    mutating func tick(_ id: NodeID) {
        let actions = nodes[id]!.tick()
        record(actions, at: id)
    }

    /// Ticks every node once, in ascending id order, without delivering anything.
    mutating func tickAll() {
        for id in ids { tick(id) }
        checkLeases()
    }

    /// Delivers the next message in flight (or drops it if its link is cut or it is lost).
    mutating func deliverNext() {
        let envelope = inFlight.removeFirst()
        if blocked.contains(Link(from: envelope.from, to: envelope.to)) { return }
        if lossRate > 0, Double(faultRandom.next() >> 11) / Double(1 << 53) < lossRate { return }
        delivered += 1
        let actions = nodes[envelope.to]!.receive(envelope.message, from: envelope.from)
        record(actions, at: envelope.to)
        checkLeases()
    }

    /// Delivers the messages in flight now, but not the ones they cause: one network hop.
    mutating func deliverRound() {
        for _ in 0..<inFlight.count { deliverNext() }
    }

    /// Delivers until nothing is in flight. Returns the number of hops (rounds) it took.
    @discardableResult
    mutating func deliverAll() -> Int {
        var rounds = 0
        while !inFlight.isEmpty {
            rounds += 1
            precondition(rounds < 10_000, "messages keep causing messages")
            deliverRound()
        }
        return rounds
    }

    /// One tick of the whole cluster: every node ticks, then everything is delivered.
    mutating func step() {
        tickAll()
        deliverAll()
    }

    mutating func run(ticks: Int) {
        for _ in 0..<ticks { step() }
    }

    /// Steps until `condition` holds (checked before each step too). Returns the steps taken, or nil.
    @discardableResult
    mutating func runUntil(maxTicks: Int, _ condition: (Network) -> Bool) -> Int? {
        for ticks in 0...maxTicks {
            if condition(self) { return ticks }
            if ticks < maxTicks { step() }
        }
        return nil
    }

    mutating func transfer(from leader: NodeID, to target: NodeID) throws(TransferRefusal) {
        let actions = try nodes[leader]!.transferLeadership(to: target)
        record(actions, at: leader)
    }

    mutating func shutdown(_ id: NodeID) {
        let actions = nodes[id]!.shutdown()
        record(actions, at: id)
    }

    /// Replaces a node with a fresh instance built from its durable state, as after a crash.
    mutating func restart(_ id: NodeID, seed: UInt64) {
        let old = nodes[id]!
        nodes[id] = RaftNode(
            id: id, membership: old.membership, configuration: old.configuration, hardState: durable[id]!,
            random: SplitMix64(seed: seed))
        openCampaign[id] = nil
        inFlight.removeAll { $0.to == id }
    }

    // MARK: Invariants

    private mutating func record(_ actions: [Action], at id: NodeID) {
        let node = nodes[id]!
        let now = node.status.now
        for action in actions {
            history.append(Event(node: id, now: now, action: action))
            switch action {
            case .persist(let state):
                if state.term < durable[id]!.term { violate("\(id) persisted a lower term: \(state)") }
                durable[id] = state
            case .send(let message, let to):
                checkDurable(before: message, from: id, to: to)
                inFlight.append(Envelope(from: id, to: to, message: message))
            case .campaignStarted(let phase, _):
                if let open = openCampaign[id] {
                    // Only a won pre-vote continues into a vote within the same campaign.
                    if !(open.phase == .preVote && phase == .vote) {
                        violate("\(id) started a \(phase) phase inside an open \(open.phase) campaign")
                    }
                    openCampaign[id]?.phase = phase
                } else {
                    openCampaign[id] = (now, phase)
                }
            case .campaignFinished(_, let ticks):
                if let started = openCampaign[id]?.startedAt {
                    if ticks != now - started {
                        violate("\(id) reported a campaign of \(ticks) ticks, but it began at \(started) and ended at \(now)")
                    }
                    openCampaign[id] = nil
                } else {
                    violate("\(id) finished a campaign it never started")
                }
            default:
                break
            }
        }
        let status = node.status
        let holds = HardState(term: status.term, votedFor: status.votedFor, lastLog: status.lastLog)
        if holds != durable[id]! { violate("\(id) holds \(holds) but only \(durable[id]!) is durable") }
        if status.role == .leader {
            if let other = leaderOfTerm[status.term], other != id {
                violate("two leaders in term \(status.term): \(other) and \(id)")
            }
            leaderOfTerm[status.term] = id
        }
        let campaigning = status.role == .preCandidate || status.role == .candidate
        if campaigning != (openCampaign[id] != nil) {
            violate("\(id) is \(status.role) but its campaign is \(openCampaign[id] == nil ? "closed" : "open")")
        }
    }

    /// Raft Figure 2: a message may only leave once the state it depends on is durable.
    private mutating func checkDurable(before message: Message, from id: NodeID, to peer: NodeID) {
        let state = durable[id]!
        switch message {
        case .voteRequest(let request):
            if state.term != request.term || state.votedFor != id {
                violate("\(id) asked for votes in term \(request.term) with only \(state) durable")
            }
        case .voteResponse(let response) where response.granted:
            if state.term != response.term || state.votedFor != peer {
                violate("\(id) granted \(peer) a vote in term \(response.term) with only \(state) durable")
            }
        case .heartbeat(let heartbeat):
            if state.term != heartbeat.term || state.lastLog != heartbeat.leaderLog {
                violate("\(id) sent a heartbeat \(heartbeat) with only \(state) durable")
            }
        case .heartbeatResponse, .timeoutNow:
            if message.term > state.term { violate("\(id) sent \(message.kind) in term \(message.term) with only \(state) durable") }
        case .preVoteRequest, .preVoteResponse, .voteResponse:
            // Pre-votes carry a proposed term, and a vote refused for stickiness answers in the
            // candidate's term; neither is a term the sender holds, and neither commits it to anything.
            break
        case .bullyElection, .bullyAnswer, .bullyCoordinator, .bullyHeartbeat,
            .ringElection, .ringElected, .ringAck, .ringHeartbeat:
            violate("\(id), a Raft node, sent a \(message.kind) message")
        }
    }

    /// The lease is the "is leader" answer given to the outside: at most one node may hold it at once.
    private mutating func checkLeases() {
        let holders = leaseHolders
        if holders.count > 1 { violate("several lease holders at once: \(holders)") }
    }

    private mutating func violate(_ message: String) { violations.append(message) }
}
