import BallotCore
import BallotServer
import Testing

/// Real Raft cores wired by hand, each feeding its own ``MetricsRecorder`` with synthetic monotonic
/// instants (`base + tick × n`), so that every duration the recorder reports can be checked exactly.
///
/// One ``step()`` is one tick: every live node ticks, then the messages sent during the previous
/// step are delivered (FIFO), all at the new instant. Every hop thus takes one tick, so a (pre-)vote round trip takes two
/// and campaigns last a measurable time. Isolated or crashed nodes neither send nor receive.
struct RecordedCluster {
    static let tick = Duration.milliseconds(10)
    static let wallClockBase = 1_700_000_000.0

    let base: ContinuousClock.Instant
    let membership: Membership
    let configuration = RaftConfiguration()
    private(set) var ticks: UInt64 = 0
    private(set) var nodes: [NodeID: RaftNode] = [:]
    private(set) var recorders: [NodeID: MetricsRecorder] = [:]
    /// The last hard state each node asked to persist: what survives a crash.
    private(set) var persisted: [NodeID: HardState] = [:]
    var isolated: Set<NodeID> = []
    private var inFlight: [(from: NodeID, to: NodeID, message: Message)] = []
    private var seed: UInt64

    // What the cores did, as the harness saw it, to check the recorder against.
    private(set) var finishedCampaigns: [NodeID: [(outcome: CampaignOutcome, ticks: UInt64)]] = [:]
    private(set) var heartbeatsSent: [NodeID: Int] = [:]
    /// Instants at which each node learned of a (non-nil) leader, in order.
    private(set) var leaderFound: [NodeID: [(leader: LeaderInfo, at: ContinuousClock.Instant)]] = [:]
    /// Instants at which each node lost its leader (`leaderChanged(nil)`), in order.
    private(set) var leaderLost: [NodeID: [ContinuousClock.Instant]] = [:]
    private(set) var steppedDownAt: [NodeID: ContinuousClock.Instant] = [:]

    init(size: Int = 3, seed: UInt64) {
        let ids = (1...UInt64(size)).map { NodeID(integerLiteral: $0) }
        self.membership = Membership(ids)
        self.base = ContinuousClock.now
        self.seed = seed
        for id in ids { boot(id) }
    }

    var ids: [NodeID] { membership.members }
    var now: ContinuousClock.Instant { base + Self.tick * ticks }
    func wallClock(at instant: ContinuousClock.Instant) -> Double {
        Self.wallClockBase + seconds(instant - base)
    }

    func status(_ id: NodeID) -> NodeStatus { nodes[id]!.status }
    func recorder(_ id: NodeID) -> MetricsRecorder { recorders[id]! }

    /// The node that believes it leads, if exactly one does.
    var leader: NodeID? {
        let leaders = nodes.values.filter { $0.status.role == .leader }.map(\.id)
        return leaders.count == 1 ? leaders[0] : nil
    }

    /// Whether every live node in `group` knows the same leader, and that leader is in `group`.
    func agreeOnLeader(_ group: [NodeID]? = nil) -> NodeID? {
        let members = group ?? ids
        guard let first = nodes[members[0]]?.status.leader, members.contains(first) else { return nil }
        return members.allSatisfy { nodes[$0]?.status.leader == first } ? first : nil
    }

    /// Renders a node's recorder at `instant` (default: now) and parses the text.
    func scrape(_ id: NodeID, at instant: ContinuousClock.Instant? = nil) throws -> Exposition {
        let at = instant ?? now
        return try Exposition(recorder(id).render(now: at, wallClockNow: wallClock(at: at)))
    }

    // MARK: Driving

    mutating func step() {
        ticks += 1
        let due = inFlight
        inFlight = []
        for id in ids where nodes[id] != nil {
            let actions = nodes[id]!.tick()
            handle(id, actions)
        }
        for (from, to, message) in due where nodes[to] != nil && !isolated.contains(to) && !isolated.contains(from) {
            let actions = nodes[to]!.receive(message, from: from)
            handle(to, actions)
        }
    }

    /// Steps until `condition` holds, at most `maxTicks` times; returns whether it held.
    @discardableResult
    mutating func run(maxTicks: Int, until condition: (RecordedCluster) -> Bool) -> Bool {
        for _ in 0..<maxTicks {
            if condition(self) { return true }
            step()
        }
        return condition(self)
    }

    mutating func run(ticks count: Int) {
        for _ in 0..<count { step() }
    }

    /// Runs until a leader is elected and known to every node of `group` (default: all).
    @discardableResult
    mutating func elect(among group: [NodeID]? = nil, maxTicks: Int = 300) -> NodeID? {
        run(maxTicks: maxTicks) { cluster in
            guard let leader = cluster.agreeOnLeader(group) else { return false }
            return cluster.status(leader).role == .leader
        }
        return agreeOnLeader(group)
    }

    mutating func transferLeadership(from leader: NodeID, to target: NodeID) throws {
        let actions = try nodes[leader]!.transferLeadership(to: target)
        handle(leader, actions)
    }

    /// The node stops: no ticks, no messages; only its persisted hard state survives.
    mutating func crash(_ id: NodeID) {
        nodes[id] = nil
        recorders[id] = nil
    }

    /// A fresh core from the persisted hard state and a fresh recorder, started now.
    mutating func restart(_ id: NodeID) {
        boot(id)
    }

    private mutating func boot(_ id: NodeID) {
        seed &+= 0x9E37_79B9
        let node = RaftNode(
            id: id, membership: membership, configuration: configuration,
            hardState: persisted[id] ?? .initial, random: SplitMix64(seed: seed))
        let recorder = MetricsRecorder(
            nodeID: id, membership: membership, algorithm: RaftNode.algorithmName, version: "test",
            tickDuration: Self.tick)
        recorder.startedUp(at: now, status: node.status)
        nodes[id] = node
        recorders[id] = recorder
    }

    private mutating func handle(_ id: NodeID, _ actions: [Action]) {
        recorders[id]!.record(actions, status: nodes[id]!.status, at: now)
        for action in actions {
            switch action {
            case .persist(let state):
                persisted[id] = state
            case .send(let message, let to):
                if case .heartbeat = message { heartbeatsSent[id, default: 0] += 1 }
                inFlight.append((id, to, message))
            case .campaignFinished(let outcome, let ticks):
                finishedCampaigns[id, default: []].append((outcome, ticks))
            case .leaderChanged(let leader?):
                leaderFound[id, default: []].append((leader, now))
            case .steppedDown:
                steppedDownAt[id] = now
            case .leaderChanged(nil):
                leaderLost[id, default: []].append(now)
            case .roleChanged, .campaignStarted, .transferFinished:
                break
            }
        }
    }
}

/// A duration in seconds, as the exposition shows it.
func seconds(_ duration: Duration) -> Double {
    let (whole, attoseconds) = duration.components
    return Double(whole) + Double(attoseconds) * 1e-18
}
