import BallotCore
import BallotRuntime

/// A simulated cluster driven step by step, for scenario tests and demonstrations: no random
/// faults and a loss-free network unless a script injects them. Invariants are checked throughout.
///
/// A value: a copy is an independent history from that point on (scenarios fork a cluster to try
/// two futures). The simulator it wraps is copied on the first change after a copy.
public struct ScriptedCluster {
    private(set) var simulator: ClusterSimulator
    private var nextCut = 1_000_000

    public init(nodes: Int, seed: UInt64 = 1, configure: (inout SimulationOptions) -> Void = { _ in }) {
        var options = SimulationOptions(seed: seed, nodes: nodes, faults: [])
        options.network.lossProbability = 0
        options.network.duplicationProbability = 0
        options.network.tailProbability = 0
        configure(&options)
        simulator = ClusterSimulator(options: options)
        simulator.start()
    }

    /// Forks the simulator if another copy of this cluster still shares it.
    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&simulator) { simulator = simulator.fork() }
    }

    public var options: SimulationOptions { simulator.options }
    public var now: VirtualTime { simulator.now }
    public var violations: [Violation] { simulator.checker.violations }
    public var statuses: [NodeStatus] { simulator.nodes.map { $0.driver.status } }
    public func status(of id: NodeID) -> NodeStatus { simulator.nodes[ClusterSimulator.index(of: id)].driver.status }
    /// Campaigns won so far, across the cluster.
    public var elections: Int { simulator.result.elections }
    public var trace: [String] { simulator.traceLog?.lines ?? [] }

    /// The node that currently leads, if exactly one up node has the leader role.
    public var leader: NodeStatus? {
        let leaders = simulator.nodes.filter { $0.isUp }.map { $0.driver.status }.filter { $0.role == .leader }
        return leaders.count == 1 ? leaders[0] : nil
    }

    /// Whether the node holds a leader lease that is valid at this virtual instant.
    public func holdsValidLease(_ id: NodeID) -> Bool {
        simulator.leaseIsValid(ClusterSimulator.index(of: id))
    }

    public mutating func run(milliseconds: Double) {
        makeUnique()
        simulator.advance(to: simulator.now + UInt64(milliseconds * 1000))
    }

    /// Runs in small steps until `condition` holds or `limit` virtual milliseconds pass.
    /// Returns the virtual milliseconds it took, or `nil` on timeout.
    @discardableResult
    public mutating func run(upTo limit: Double, until condition: (ScriptedCluster) -> Bool) -> Double? {
        makeUnique()
        let start = simulator.now
        let step: UInt64 = 100
        while simulator.now.microseconds - start.microseconds < UInt64(limit * 1000) {
            if condition(self) { return Double(simulator.now.microseconds - start.microseconds) / 1000 }
            simulator.advance(to: simulator.now + step)
        }
        return condition(self) ? limit : nil
    }

    /// Cuts every link between `id` and the rest, both ways. Returns a handle for ``heal(_:)``.
    @discardableResult
    public mutating func isolate(_ id: NodeID) -> Int {
        makeUnique()
        return partition([id], from: simulator.membership.peers(of: id))
    }

    @discardableResult
    public mutating func partition(_ a: [NodeID], from b: [NodeID], bothWays: Bool = true) -> Int {
        makeUnique()
        nextCut += 1
        var links = Set<Link>()
        for x in a {
            for y in b {
                links.insert(Link(from: x, to: y))
                if bothWays { links.insert(Link(from: y, to: x)) }
            }
        }
        simulator.network.cuts[nextCut] = links
        simulator.trace("partition \(a) | \(b)\(bothWays ? "" : " (one way)")")
        return nextCut
    }

    public mutating func heal(_ cut: Int) {
        makeUnique()
        simulator.network.undo(fault: cut)
        simulator.trace("partition healed")
    }

    /// Cuts the link between two nodes, both ways. Returns a handle for ``heal(_:)``.
    @discardableResult
    public mutating func cutLink(_ a: NodeID, _ b: NodeID) -> Int {
        makeUnique()
        return partition([a], from: [b])
    }

    public mutating func crash(_ id: NodeID) {
        makeUnique()
        simulator.crash(ClusterSimulator.index(of: id))
    }

    /// Stops a node's process (SIGSTOP): its ticks stop and arriving messages queue for it.
    public mutating func pause(_ id: NodeID) {
        makeUnique()
        simulator.pause(ClusterSimulator.index(of: id))
    }

    /// Resumes a paused node: its missed ticks, then the messages that queued while it slept, as the
    /// shell does; `ticksFirst: false` replays the shell's old, unsafe order (messages first).
    public mutating func resume(_ id: NodeID, ticksFirst: Bool = true) {
        makeUnique()
        simulator.resume(ClusterSimulator.index(of: id), ticksFirst: ticksFirst)
    }
    public mutating func restart(_ id: NodeID) {
        makeUnique()
        simulator.restart(ClusterSimulator.index(of: id))
    }

    /// Makes `observer`'s shell report `peer`'s process gone, true or not (issue 7's evidence).
    public mutating func reportUnreachable(_ peer: NodeID, to observer: NodeID) {
        makeUnique()
        let index = ClusterSimulator.index(of: observer)
        simulator.trace("node \(observer) is told node \(peer)'s process is gone")
        simulator.nodes[index].driver.peerUnreachable(peer)
        simulator.settle(index)
    }

    public mutating func transferLeadership(from leader: NodeID, to target: NodeID) throws(TransferRefusal) {
        makeUnique()
        let index = ClusterSimulator.index(of: leader)
        defer { simulator.settle(index) }
        try simulator.nodes[index].driver.transferLeadership(to: target)
    }

    /// Makes the node's disk fail its writes (or work again): it halts at its next persist.
    public mutating func failDisk(of id: NodeID, _ failing: Bool = true) {
        makeUnique()
        let index = ClusterSimulator.index(of: id)
        if failing {
            simulator.nodes[index].disk.failing = true
        } else {
            simulator.repairDisk(index)
        }
    }

    /// Why the node stopped taking part, if it did.
    public func halt(of id: NodeID) -> Halt? { simulator.nodes[ClusterSimulator.index(of: id)].driver.halt }

    // MARK: Measuring

    /// The members, in ascending order.
    public var members: [NodeID] { simulator.membership.members }

    public func isUp(_ id: NodeID) -> Bool { simulator.nodes[ClusterSimulator.index(of: id)].isUp }

    /// The running totals now; the difference of two snapshots measures the phase between them.
    public var counters: SimulationCounters {
        let result = simulator.result
        return SimulationCounters(
            time: simulator.now, messages: result.messagesSent, bytes: result.bytesSent,
            electionMessages: result.electionMessagesSent, electionBytes: result.electionBytesSent,
            splitBrainMicroseconds: result.splitBrainMicroseconds,
            overlappingLeadershipMicroseconds: result.overlappingLeadershipMicroseconds)
    }

    /// Every (leader, term) some node has claimed so far, with when it first did.
    public var leaderClaims: [LeaderClaim] { simulator.result.leaderClaims }

    /// Breaches of the properties the algorithm does not promise, counted so far.
    public var measuredBreaches: [Violation.Property: Int] { simulator.checker.breaches }

    /// Runs until every node of `group` follows one leader in its term, that leader being one of
    /// them; stops at that very event. Returns the leader and the instant, or `nil` if `limit`
    /// virtual milliseconds pass first.
    public mutating func runUntilStableLeader(among group: [NodeID], limit: Double) -> (leader: NodeID, at: VirtualTime)? {
        makeUnique()
        return run(until: Watch(.stableLeader, group: group.map(ClusterSimulator.index)), limit: limit)
    }

    /// Runs until some up node of `group` campaigns; stops at that very event. Returns the
    /// campaigner and the instant, or `nil` if `limit` virtual milliseconds pass first.
    public mutating func runUntilCampaign(among group: [NodeID], limit: Double) -> (campaigner: NodeID, at: VirtualTime)? {
        makeUnique()
        return run(until: Watch(.campaigning, group: group.map(ClusterSimulator.index)), limit: limit)
    }

    private mutating func run(until watch: Watch, limit: Double) -> (NodeID, VirtualTime)? {
        makeUnique()
        defer { simulator.watch = nil }
        simulator.watch = watch
        simulator.check(watch)
        let end = simulator.now + UInt64(limit * 1000)
        // Bounded: every pass either meets the watch, moves the clock forward or stops at a violation.
        while simulator.watch?.metAt == nil, simulator.now < end, simulator.checker.violations.isEmpty {
            simulator.advance(to: end)
        }
        guard let met = simulator.watch, let at = met.metAt, let node = met.leader else { return nil }
        return (node, at)
    }
}

/// Running totals of a simulation at one instant.
public struct SimulationCounters: Hashable, Sendable {
    public var time: VirtualTime
    public var messages: Int
    public var bytes: Int
    /// Messages that are not heartbeats or heartbeat acknowledgements.
    public var electionMessages: Int
    public var electionBytes: Int
    public var splitBrainMicroseconds: UInt64
    public var overlappingLeadershipMicroseconds: UInt64

    /// What happened between `earlier` and `self`.
    public func since(_ earlier: SimulationCounters) -> SimulationCounters {
        SimulationCounters(
            time: VirtualTime(microseconds: time.microseconds - earlier.time.microseconds),
            messages: messages - earlier.messages, bytes: bytes - earlier.bytes,
            electionMessages: electionMessages - earlier.electionMessages,
            electionBytes: electionBytes - earlier.electionBytes,
            splitBrainMicroseconds: splitBrainMicroseconds - earlier.splitBrainMicroseconds,
            overlappingLeadershipMicroseconds: overlappingLeadershipMicroseconds
                - earlier.overlappingLeadershipMicroseconds)
    }
}
