import BallotCore
import BallotRuntime

/// Real Raft cores in real ``NodeDriver``s, on one hand-driven clock, wired by a test: every
/// duration a driver reports (leases, leaderless intervals, campaigns) can be checked exactly.
///
/// One ``step()`` is one tick: the clock advances by a tick, every live node's due tick runs, then
/// the messages sent during the previous step are delivered (FIFO), all at the new instant. Every
/// hop thus takes one tick, so a (pre-)vote round trip takes two and campaigns last a measurable
/// time. Isolated or crashed nodes neither send nor receive.
public final class DriverCluster {
    public static let tick = Duration.milliseconds(10)

    public let clock = ManualClock()
    public let base: MonotonicInstant
    public let membership: Membership
    public let configuration: RaftConfiguration
    public private(set) var ticks: UInt64 = 0
    public private(set) var drivers: [NodeID: NodeDriver] = [:]
    /// Each node's durable state: what survives a crash.
    public private(set) var stores: [NodeID: MemoryStore] = [:]
    public var isolated: Set<NodeID> = []
    private var outboxes: [NodeID: CollectingOutbox] = [:]
    private var inFlight: [(from: NodeID, to: NodeID, message: Message)] = []
    private var seed: UInt64
    /// Builds the observer of each new incarnation of a node (`nil` for none), given its view.
    private let makeObserver: (NodeID, LeadershipView) -> (any NodeDriverObserver)?

    public init(
        size: Int = 3, seed: UInt64, configuration: RaftConfiguration = RaftConfiguration(),
        observer makeObserver: @escaping (NodeID, LeadershipView) -> (any NodeDriverObserver)? = { _, _ in nil }
    ) {
        let ids = (1...UInt64(size)).map { NodeID(integerLiteral: $0) }
        membership = Membership(ids)
        self.configuration = configuration
        self.seed = seed
        self.makeObserver = makeObserver
        base = clock.now
        for id in ids { boot(id) }
    }

    public var ids: [NodeID] { membership.members }
    public var now: MonotonicInstant { clock.now }

    public func driver(_ id: NodeID) -> NodeDriver { drivers[id]! }
    public func status(_ id: NodeID) -> NodeStatus { drivers[id]!.status }
    public func view(_ id: NodeID) -> LeadershipView { drivers[id]!.view }

    /// The node that believes it leads, if exactly one does.
    public var leader: NodeID? {
        let leaders = drivers.values.filter { $0.status.role == .leader }.map(\.id)
        return leaders.count == 1 ? leaders[0] : nil
    }

    /// Whether every live node in `group` knows the same leader, and that leader is in `group`.
    public func agreeOnLeader(_ group: [NodeID]? = nil) -> NodeID? {
        let members = group ?? ids
        guard let first = drivers[members[0]]?.status.leader, members.contains(first) else { return nil }
        return members.allSatisfy { drivers[$0]?.status.leader == first } ? first : nil
    }

    // MARK: Driving

    public func step() {
        clock.advance(by: Self.tick)
        ticks += 1
        let due = inFlight
        inFlight = []
        for id in ids where drivers[id] != nil {
            drivers[id]!.deliverDueTicks()
            collect(id)
        }
        for (from, to, message) in due where drivers[to] != nil && !isolated.contains(to) && !isolated.contains(from) {
            drivers[to]!.receive(message, from: from)
            collect(to)
        }
    }

    /// Steps until `condition` holds, at most `maxTicks` times; returns whether it held.
    @discardableResult
    public func run(maxTicks: Int, until condition: (DriverCluster) -> Bool) -> Bool {
        for _ in 0..<maxTicks {
            if condition(self) { return true }
            step()
        }
        return condition(self)
    }

    public func run(ticks count: Int) {
        for _ in 0..<count { step() }
    }

    /// Runs until a leader is elected and known to every node of `group` (default: all).
    @discardableResult
    public func elect(among group: [NodeID]? = nil, maxTicks: Int = 300) -> NodeID? {
        run(maxTicks: maxTicks) { cluster in
            guard let leader = cluster.agreeOnLeader(group) else { return false }
            return cluster.status(leader).role == .leader
        }
        return agreeOnLeader(group)
    }

    public func transferLeadership(from leader: NodeID, to target: NodeID) throws(TransferRefusal) {
        try drivers[leader]!.transferLeadership(to: target)
        collect(leader)
    }

    /// The node stops: no ticks, no messages; only its durable state survives.
    public func crash(_ id: NodeID) {
        drivers[id] = nil
        inFlight.removeAll { $0.to == id }
    }

    /// A fresh driver and core from the durable state, started now.
    public func restart(_ id: NodeID) {
        boot(id)
    }

    private func boot(_ id: NodeID) {
        seed &+= 0x9E37_79B9
        let store = stores[id] ?? MemoryStore()
        stores[id] = store
        let outbox = CollectingOutbox()
        outboxes[id] = outbox
        let core = RaftNode(
            id: id, membership: membership, configuration: configuration, hardState: store.state,
            random: SplitMix64(seed: seed))
        let view = LeadershipView(node: id)
        let driver = NodeDriver(
            core: core, tick: Self.tick, electionTimeout: Self.tick * Int(configuration.electionTimeoutTicks),
            store: store, outbox: outbox, clock: clock, view: view, observer: makeObserver(id, view))
        driver.startClock()
        drivers[id] = driver
    }

    /// Moves what `id` sent onto the wire (isolation is judged at delivery).
    private func collect(_ id: NodeID) {
        for (message, to) in outboxes[id]!.drain() {
            inFlight.append((id, to, message))
        }
    }
}
