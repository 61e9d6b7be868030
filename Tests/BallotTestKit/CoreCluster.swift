import BallotCore
import Testing

/// A deterministic in-memory cluster of election cores, for core tests: nodes tick in ascending ID
/// order, messages are delivered FIFO, directed links can be cut, messages lost at a seeded rate,
/// and nodes crashed (they stop and lose what is addressed to them) and restarted from their
/// durable state. Every send, persist and action is recorded.
///
/// Two delivery disciplines: ``Delivery/untilQuiet`` delivers everything a tick causes before the
/// next tick (the Raft tests: round trips within a tick, as on a LAN with 10 ms ticks), and
/// ``Delivery/oneHopPerTick`` delivers one hop per tick (the Bully and Ring tests count hops).
///
/// With `checksRaftContracts` every batch is checked against the core's contracts
/// (persist-before-send, campaign pairing, one leader per term, one lease holder at a time);
/// breaches go to ``violations``, which scripted tests expect to stay empty. Bully and Ring do not
/// promise the last two, so their clusters do not check them.
public struct CoreCluster<Node: ElectionAlgorithm> {
    public enum Delivery: Sendable { case untilQuiet, oneHopPerTick }
    /// Builds a node from its durable state; the seed varies between restarts.
    public typealias Factory = (NodeID, HardState, UInt64) -> Node

    /// A position in the record, to look at what happened after it.
    public struct Mark: Sendable {
        let history: Int
        let sent: Int
        public static var start: Mark { Mark(history: 0, sent: 0) }
    }

    public let ids: [NodeID]
    public private(set) var nodes: [NodeID: Node] = [:]
    public private(set) var crashed: Set<NodeID> = []
    public private(set) var inFlight: [Envelope] = []
    /// Every message sent, in order (delivered or not).
    public private(set) var sent: [Envelope] = []
    /// Every action, with the node and its logical time.
    public private(set) var history: [Event] = []
    public private(set) var violations: [String] = []
    /// Messages delivered (not dropped) so far.
    public private(set) var delivered = 0
    /// Probability that a message is lost in flight, decided by `faultRandom`.
    public var lossRate = 0.0
    public var faultRandom = SplitMix64(seed: 0xFA17)

    let delivery: Delivery
    let checksRaftContracts: Bool
    private let make: Factory
    private var blocked: Set<Link> = []
    /// The last hard state each node made durable: what survives a crash.
    private(set) var durable: [NodeID: HardState] = [:]
    /// Each node's open campaign: when it began, by the node's own clock, and its current phase.
    private var openCampaign: [NodeID: (startedAt: UInt64, phase: CampaignPhase)] = [:]
    private var leaderOfTerm: [Term: NodeID] = [:]

    private struct Link: Hashable {
        var from: NodeID
        var to: NodeID
    }

    /// Nodes 1…`size`, each built by `make` from the initial state.
    public init(size: Int, delivery: Delivery = .oneHopPerTick, checksRaftContracts: Bool = false, make: @escaping Factory) {
        ids = (1...size).map { NodeID(UInt64($0))! }
        self.delivery = delivery
        self.checksRaftContracts = checksRaftContracts
        self.make = make
        for id in ids {
            nodes[id] = make(id, .initial, 0)
            durable[id] = .initial
        }
    }

    /// Nodes given ready-made (their durable state is what they hold now).
    public init(nodes given: [Node], delivery: Delivery, checksRaftContracts: Bool, make: @escaping Factory) {
        ids = given.map(\.id).sorted()
        self.delivery = delivery
        self.checksRaftContracts = checksRaftContracts
        self.make = make
        for node in given {
            nodes[node.id] = node
            let status = node.status
            durable[node.id] = HardState(term: status.term, votedFor: status.votedFor, lastLog: status.lastLog)
        }
    }

    // MARK: Inspection

    public func status(_ id: NodeID) -> NodeStatus { nodes[id]!.status }
    public func node(_ id: NodeID) -> Node { nodes[id]! }
    public var live: [NodeID] { ids.filter { !crashed.contains($0) } }
    public var leaders: [NodeID] { live.filter { status($0).role == .leader } }
    public var leaseHolders: [NodeID] { live.filter { status($0).holdsLease } }
    public var terms: [Term] { ids.map { status($0).term } }
    /// The one leader every live node follows in its term, if there is one.
    public var agreedLeader: NodeID? {
        guard leaders.count == 1, let leader = leaders.first else { return nil }
        let term = status(leader).term
        return live.allSatisfy({ status($0).leader == leader && status($0).term == term }) ? leader : nil
    }

    public var mark: Mark { Mark(history: history.count, sent: sent.count) }
    public func actions(of id: NodeID, since mark: Mark = .start) -> [Action] {
        history[mark.history...].filter { $0.node == id }.map(\.action)
    }
    public func history(since mark: Mark) -> ArraySlice<Event> { history[mark.history...] }
    public func sent(since mark: Mark) -> [Envelope] { Array(sent[mark.sent...]) }
    public func sent(_ kind: MessageKind, since mark: Mark = .start) -> [Envelope] {
        sent[mark.sent...].filter { $0.message.kind == kind }
    }

    // MARK: Faults

    public mutating func cut(_ a: NodeID, _ b: NodeID) {
        blocked.insert(Link(from: a, to: b))
        blocked.insert(Link(from: b, to: a))
    }

    public mutating func cutOneWay(from: NodeID, to: NodeID) { blocked.insert(Link(from: from, to: to)) }

    public mutating func isolate(_ id: NodeID) {
        for other in ids where other != id { cut(id, other) }
    }

    public mutating func heal() { blocked.removeAll() }

    /// The node stops; what is addressed to it is lost.
    public mutating func crash(_ id: NodeID) {
        crashed.insert(id)
        inFlight.removeAll { $0.to == id }
    }

    /// A fresh instance built from the node's durable state, as after a crash.
    public mutating func restart(_ id: NodeID, seed: UInt64 = 0) {
        crashed.remove(id)
        nodes[id] = make(id, durable[id]!, seed)
        openCampaign[id] = nil
        inFlight.removeAll { $0.to == id }
    }

    // MARK: Driving

    public mutating func tick(_ id: NodeID) {
        guard !crashed.contains(id) else { return }
        let actions = nodes[id]!.tick()
        record(actions, at: id)
    }

    /// Ticks every live node once, in ascending ID order, without delivering anything.
    public mutating func tickAll() {
        for id in ids { tick(id) }
        checkLeases()
    }

    /// Hands `message` to `to` as if `from` had sent it.
    public mutating func inject(_ message: Message, from: NodeID, to: NodeID) {
        let actions = nodes[to]!.receive(message, from: from)
        record(actions, at: to)
    }

    /// Delivers the next message in flight (or drops it: cut link, crashed target, loss).
    public mutating func deliverNext() {
        let envelope = inFlight.removeFirst()
        if blocked.contains(Link(from: envelope.from, to: envelope.to)) || crashed.contains(envelope.to) { return }
        if lossRate > 0, Double(faultRandom.next() >> 11) / Double(1 << 53) < lossRate { return }
        delivered += 1
        inject(envelope.message, from: envelope.from, to: envelope.to)
        checkLeases()
    }

    /// Delivers the messages in flight now, but not the ones they cause: one network hop.
    public mutating func deliverRound() {
        for _ in 0..<inFlight.count { deliverNext() }
    }

    /// Delivers until nothing is in flight. Returns the number of hops (rounds) it took.
    @discardableResult
    public mutating func deliverAll() -> Int {
        var rounds = 0
        while !inFlight.isEmpty {
            rounds += 1
            precondition(rounds < 10_000, "messages keep causing messages")
            deliverRound()
        }
        return rounds
    }

    /// One tick of the whole cluster: every node ticks, then messages are delivered as the
    /// cluster's ``Delivery`` says.
    public mutating func step() {
        tickAll()
        switch delivery {
        case .untilQuiet: deliverAll()
        case .oneHopPerTick: deliverRound()
        }
    }

    public mutating func run(ticks: Int) {
        for _ in 0..<ticks { step() }
    }

    /// Steps until `condition` holds (checked before each step too). Returns the steps taken, or nil.
    @discardableResult
    public mutating func runUntil(maxTicks: Int, _ condition: (Self) -> Bool) -> Int? {
        for ticks in 0...maxTicks {
            if condition(self) { return ticks }
            if ticks < maxTicks { step() }
        }
        return nil
    }

    public mutating func transfer(from leader: NodeID, to target: NodeID) throws(TransferRefusal) {
        let actions = try nodes[leader]!.transferLeadership(to: target)
        record(actions, at: leader)
    }

    /// The shell of `id` reports that `peer`'s process is gone (fast-failover evidence).
    public mutating func reportUnreachable(_ peer: NodeID, at id: NodeID) {
        guard !crashed.contains(id) else { return }
        let actions = nodes[id]!.peerUnreachable(peer)
        record(actions, at: id)
    }

    public mutating func shutdown(_ id: NodeID) {
        let actions = nodes[id]!.shutdown()
        record(actions, at: id)
    }

    /// Issue 15: the node resigns (see ``ElectionAlgorithm/resign(holdOffTicks:)``).
    public mutating func resign(_ id: NodeID, holdOffTicks: UInt64) throws(TransferRefusal) {
        let actions = try nodes[id]!.resign(holdOffTicks: holdOffTicks)
        record(actions, at: id)
    }

    /// Issue 15: the shell of `id` says every holder of its lease in `term` stopped.
    public mutating func releaseLease(_ id: NodeID, term: Term) {
        guard !crashed.contains(id) else { return }
        let actions = nodes[id]!.leaseReleased(term: term)
        record(actions, at: id)
    }

    /// Issue 15: the node is made eligible or not.
    public mutating func setEligible(_ id: NodeID, _ eligible: Bool) throws(CandidacyRefusal) {
        let actions = try nodes[id]!.setEligible(eligible)
        record(actions, at: id)
    }

    // MARK: Recording and contracts

    private mutating func record(_ actions: [Action], at id: NodeID) {
        let now = nodes[id]!.status.now
        for action in actions {
            history.append(Event(node: id, now: now, action: action))
            switch action {
            case .persist(let state):
                if checksRaftContracts && state.term < durable[id]!.term { violate("\(id) persisted a lower term: \(state)") }
                durable[id] = state
            case .send(let message, let to):
                if checksRaftContracts { checkDurable(before: message, from: id, to: to) }
                let envelope = Envelope(from: id, to: to, message: message)
                sent.append(envelope)
                inFlight.append(envelope)
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
        guard checksRaftContracts else { return }
        let status = nodes[id]!.status
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
        case .heartbeatResponse, .timeoutNow, .leaseReleased:
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
        guard checksRaftContracts else { return }
        let holders = leaseHolders
        if holders.count > 1 { violate("several lease holders at once: \(holders)") }
    }

    private mutating func violate(_ message: String) { violations.append(message) }
}

extension CoreCluster where Node == RaftNode {
    /// Raft nodes given ready-made, delivering until quiet, with every contract checked; a restart
    /// rebuilds a node with its configuration and the restart's seed.
    /// A restart rebuilds a node with the candidacy it was given (as a data directory would keep it).
    public init(raftNodes given: [RaftNode], candidacies: [NodeID: Candidacy] = [:]) {
        let configurations = Dictionary(uniqueKeysWithValues: given.map { ($0.id, ($0.membership, $0.configuration)) })
        self.init(nodes: given, delivery: .untilQuiet, checksRaftContracts: true) { id, state, seed in
            let (membership, configuration) = configurations[id]!
            return RaftNode(id: id, membership: membership, configuration: configuration, hardState: state,
                            candidacy: candidacies[id] ?? .default, random: SplitMix64(seed: seed))
        }
    }

    /// `size` Raft nodes with the same configuration; each node's generator is split from one seed.
    /// Nodes missing from `candidacies` are eligible with priority 0.
    public init(size: Int, config: RaftConfiguration, seed: UInt64, candidacies: [NodeID: Candidacy] = [:]) {
        var random = SplitMix64(seed: seed)
        let members = Membership((1...UInt64(size)).map { NodeID(integerLiteral: $0) })
        self.init(raftNodes: members.members.map {
            RaftNode(id: $0, membership: members, configuration: config, candidacy: candidacies[$0] ?? .default,
                     random: random.split())
        }, candidacies: candidacies)
    }

    /// A cluster whose node `leader` has the strictly earliest first timeout (the first seed from 1
    /// on that gives it), run until `leader` has won and everyone follows it.
    public static func elected(
        size: Int, config: RaftConfiguration, leader: NodeID = 1, candidacies: [NodeID: Candidacy] = [:]
    ) throws -> Self {
        for seed in UInt64(1)...1_000 {
            let candidate = Self(size: size, config: config, seed: seed, candidacies: candidacies)
            let timeouts = candidate.ids.map { candidate.nodes[$0]!.ticksUntilFirstCampaign ?? .max }
            let mine = timeouts[candidate.ids.firstIndex(of: leader)!]
            guard timeouts.filter({ $0 <= mine }).count == 1 else { continue }
            var cluster = candidate
            let ticks = cluster.runUntil(maxTicks: 3 * Int(config.electionTimeoutTicks)) { net in
                net.leaders == [leader] && net.ids.allSatisfy { $0 == leader || net.status($0).leader == leader }
            }
            try #require(ticks != nil, "seed \(seed): node \(leader) did not win its first election")
            return cluster
        }
        throw NoSeedFits()
    }

    public struct NoSeedFits: Error {}
}

extension ElectionAlgorithm {
    /// How many ticks from now the node first campaigns, measured on a copy (the node is a value).
    public var ticksUntilFirstCampaign: UInt64? {
        var copy = self
        for ticks in UInt64(1)...1_000 {
            if copy.tick().contains(where: { if case .campaignStarted = $0 { true } else { false } }) { return ticks }
        }
        return nil
    }
}

/// A message on its way from one node to another.
public struct Envelope: Hashable, CustomStringConvertible {
    public var from: NodeID
    public var to: NodeID
    public var message: Message
    public var description: String { "\(from)→\(to) \(message.kind)(term \(message.term))" }
}

/// One action one node produced, with the node's logical time: the unit of the recorded history.
public struct Event: Hashable, CustomStringConvertible {
    public var node: NodeID
    public var now: UInt64
    public var action: Action
    public var description: String { "[\(now)] \(node): \(action)" }
}
