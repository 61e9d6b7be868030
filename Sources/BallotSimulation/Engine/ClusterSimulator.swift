import BallotCore
import BallotWire
import Foundation

/// Runs one seeded history: N election cores, a virtual clock, a faulty network and a fault
/// schedule, with every safety invariant checked after every event.
///
/// One seed determines everything; nothing reads a real clock or a global random source.
public struct ClusterSimulator {
    enum Event {
        case tick(NodeID, incarnation: Int)
        case deliver(Message, from: NodeID, to: NodeID, incarnation: Int)
        /// The shell of `to` reports that `lost`'s process is gone (its connection dropped and
        /// reconnecting was refused): the fast-failover evidence of issue 7.
        case peerUnreachable(NodeID, to: NodeID, incarnation: Int)
        case injectFault
        case undo(Undo)
        case healAll
    }

    enum Undo {
        case restart(NodeID)
        case resume(NodeID)
        case network(Int)
    }

    let options: SimulationOptions
    let membership: Membership
    var nodes: [SimulatedNode] = []
    var queue = EventQueue<Event>()
    var network: NetworkModel
    var random: SplitMix64
    var checker: InvariantChecker
    var result: SimulationResult
    /// Each node's status after the last event it handled: statuses change only when a core does,
    /// so the per-event checks read this instead of asking every core again.
    var statuses: [NodeStatus] = []
    /// The term each node currently leads, for ``SimulationResult/leaderClaims``.
    var leadingTerm: [Term?] = []
    /// How many nodes answered "I am the leader" after the last event (for split-brain time).
    var leaseHolderCount = 0
    /// A condition a script is waiting for, checked after every event.
    var watch: Watch?
    var now = VirtualTime.zero
    var healedAt: VirtualTime?
    var nextFaultNumber = 0
    /// A reference, so that tracing does not need exclusive access to the simulator.
    let traceLog: TraceLog?

    public init(options: SimulationOptions) {
        self.options = options
        var master = SplitMix64(seed: options.seed)
        let count = options.nodes ?? [1, 2, 3, 3, 4, 5, 5, 7][Int(master.next() % 8)]
        membership = Membership((1...UInt64(count)).map { NodeID($0)! })
        network = NetworkModel(profile: options.network, random: master.split())
        random = master.split()
        result = SimulationResult(options: options, nodeCount: count)
        checker = InvariantChecker(measured: options.measuredProperties)
        traceLog = options.trace ? TraceLog() : nil
        for id in membership.members {
            let rate = 1 + Double.random(in: -options.clockDrift...options.clockDrift, using: &random)
            let core = CoreFactory.make(
                options.algorithm, id: id, membership: membership, durable: .initial, options: options,
                random: master.split())
            nodes.append(SimulatedNode(id: id, core: core, durable: .initial, rate: rate))
            statuses.append(core.status)
            leadingTerm.append(nil)
        }
    }

    /// Runs the fault phase, heals everything, runs the liveness phase, and reports.
    public static func run(_ options: SimulationOptions) -> SimulationResult {
        var simulator = ClusterSimulator(options: options)
        return simulator.run()
    }

    mutating func run() -> SimulationResult {
        start()
        let faultPhaseEnd = VirtualTime(microseconds: options.faultPhaseMilliseconds * 1000)
        if !options.faults.isEmpty { queue.schedule(.injectFault, at: VirtualTime(microseconds: faultGap())) }
        queue.schedule(.healAll, at: faultPhaseEnd)
        advance(to: faultPhaseEnd + options.livenessBoundMicroseconds)
        if checker.violations.isEmpty && result.timeToStableLeaderMicroseconds == nil {
            checker.fail(.liveness, at: now,
                         "no leader known to every node within \(options.livenessBoundTimeouts) × 2T after healing")
        }
        return finish()
    }

    /// Schedules every node's first tick at a random phase.
    mutating func start() {
        for index in nodes.indices {
            scheduleTick(index, after: UInt64.random(in: 0..<options.tickMicroseconds, using: &random))
        }
    }

    /// Processes events up to `end`, checking invariants after each; stops at the first violation,
    /// or at the event that meets the ``watch``.
    mutating func advance(to end: VirtualTime) {
        while checker.violations.isEmpty, let first = queue.firstTime, first <= end,
              let (time, event) = queue.popFirst()
        {
            accountOverlap(until: time)
            now = time
            handle(event)
            result.eventsProcessed += 1
            checkLeases()
            if healedAt != nil && result.timeToStableLeaderMicroseconds == nil { checkStable() }
            if let watch, watch.metAt == nil {
                check(watch)
                // Stop at the very event, so a script can act at that instant.
                if self.watch?.metAt != nil { return }
            }
        }
        if checker.violations.isEmpty && end > now {
            accountOverlap(until: end)
            now = end
        }
    }

    mutating func finish() -> SimulationResult {
        result.violations = checker.violations
        result.measuredBreaches = checker.breaches
        result.trace = traceLog?.lines ?? []
        return result
    }

    // MARK: Events

    /// One tick of node `index`'s core, holding the core to its ``ElectionAlgorithm/ticksUntilTimer``:
    /// a tick it called quiet must produce nothing, and the countdown may not jump closer by itself.
    mutating func tickCore(_ index: Int) -> [Action] {
        let promised = nodes[index].core.ticksUntilTimer
        let actions = nodes[index].core.tick()
        guard promised > 1 else { return actions }
        let id = nodes[index].id
        if !actions.isEmpty {
            checker.fail(.timerPromise, at: now, "node \(id) promised \(promised - 1) quiet ticks, yet one produced \(actions)")
        } else if nodes[index].core.ticksUntilTimer < promised - 1 {
            checker.fail(.timerPromise, at: now,
                         "node \(id) promised \(promised - 1) quiet ticks, then \(nodes[index].core.ticksUntilTimer - 1) after one")
        }
        return actions
    }

    mutating func handle(_ event: Event) {
        switch event {
        case .tick(let id, let incarnation):
            let index = Self.index(of: id)
            guard nodes[index].incarnation == incarnation, nodes[index].condition != .crashed else { return }
            guard nodes[index].isUp else { return }  // A paused node's ticks resume with it.
            nodes[index].lastTickAt = now
            apply(tickCore(index), of: index)
            scheduleTick(index, after: tickPeriod(of: index))
        case .deliver(let message, let from, let to, let incarnation):
            let index = Self.index(of: to)
            guard nodes[index].incarnation == incarnation else { return }
            switch nodes[index].condition {
            case .crashed: return
            case .paused: nodes[index].inbox.append((message, from))
            case .up:
                trace("\(from)->\(to) \(describe(message))")
                let actions = nodes[index].core.receive(message, from: from)
                apply(actions, of: index)
            }
        case .peerUnreachable(let lost, let to, let incarnation):
            let index = Self.index(of: to)
            guard nodes[index].incarnation == incarnation, nodes[index].isUp else { return }
            trace("node \(to) sees node \(lost)'s connection drop and reconnecting refused")
            apply(nodes[index].core.peerUnreachable(lost), of: index)
        case .injectFault:
            guard healedAt == nil else { return }
            injectFault()
            queue.schedule(.injectFault, at: now + faultGap())
        case .undo(let undo):
            if healedAt == nil { perform(undo) }
        case .healAll:
            healAll()
        }
    }

    /// Carries out a core's actions in order; persistence completes before the next action.
    mutating func apply(_ actions: [Action], of index: Int) {
        let id = nodes[index].id
        for action in actions {
            switch action {
            case .persist(let state):
                nodes[index].durable = state
                checker.recordPersist(state, of: id, at: now)
            case .send(let message, let peer):
                checker.checkSend(message, from: id, to: peer, durable: nodes[index].durable, at: now)
                transmit(message, from: id, to: peer)
            case .roleChanged(let role, let term):
                trace("node \(id) became \(role) term \(term)")
            case .leaderChanged(let leader):
                if leader != nil { result.leaderChanges += 1 }
                trace("node \(id) now follows \(leader.map { "\($0.id) (term \($0.term))" } ?? "nobody")")
            case .campaignStarted(let phase, let term):
                if phase == .preVote || nodes[index].core.status.role == .candidate { result.campaignsStarted += 1 }
                trace("node \(id) starts \(phase.rawValue) for term \(term)")
            case .campaignFinished(let outcome, let ticks):
                if outcome == .won { result.elections += 1 }
                trace("node \(id) campaign \(outcome.rawValue) after \(ticks) ticks")
            case .steppedDown(let reason):
                trace("node \(id) stepped down: \(reason.rawValue)")
            case .transferFinished(let target, let outcome):
                trace("node \(id) transfer to \(target): \(outcome.rawValue)")
            }
        }
        refreshStatus(of: index)
    }

    /// Reads a node's status after its core changed, checks it, and notes a new leader claim.
    mutating func refreshStatus(of index: Int) {
        let status = nodes[index].core.status
        statuses[index] = status
        checker.checkNode(status, at: now)
        if status.role == .leader {
            if leadingTerm[index] != status.term {
                leadingTerm[index] = status.term
                result.leaderClaims.append(LeaderClaim(leader: status.id, term: status.term, at: now))
            }
        } else {
            leadingTerm[index] = nil
        }
    }

    mutating func transmit(_ message: Message, from: NodeID, to: NodeID) {
        result.messagesSent += 1
        let bytes = FrameEncoder.encodedByteCount(of: .message(message))
        result.bytesSent += bytes
        if !message.kind.isHeartbeat {
            result.electionMessagesSent += 1
            result.electionBytesSent += bytes
        }
        let target = nodes[Self.index(of: to)]
        let (delays, cause) = network.deliveries(on: Link(from: from, to: to))
        if let cause {
            result.messagesDropped += 1
            trace("\(from)->\(to) \(describe(message)) lost (\(cause))")
            return
        }
        for delay in delays {
            queue.schedule(.deliver(message, from: from, to: to, incarnation: target.incarnation), at: now + delay)
        }
    }

    // MARK: Time

    static func index(of id: NodeID) -> Int { Int(id.rawValue) - 1 }

    func tickPeriod(of index: Int) -> UInt64 {
        UInt64((Double(options.tickMicroseconds) / nodes[index].rate).rounded())
    }

    mutating func scheduleTick(_ index: Int, after delay: UInt64) {
        queue.schedule(.tick(nodes[index].id, incarnation: nodes[index].incarnation), at: now + delay)
    }

    mutating func faultGap() -> UInt64 {
        let mean = Double(options.meanFaultGapMilliseconds * 1000)
        let u = Double.random(in: Double.ulpOfOne..<1, using: &random)
        return UInt64(-mean * log(u))
    }

    /// Records a trace line; the text is only built when tracing is on.
    func trace(_ line: @autoclosure () -> String) {
        guard let traceLog else { return }
        traceLog.lines.append("\(now) \(line())")
    }
}

/// The lines of a trace being recorded.
final class TraceLog {
    var lines: [String] = []
}
