import BallotCore
import BallotRuntime
import BallotWire
import Foundation

/// Runs one seeded history: N nodes — each the very ``NodeDriver`` the server runs, on a virtual
/// clock, disk and network — and a fault schedule, with every safety invariant checked after every
/// event.
///
/// One seed determines everything; nothing reads a real clock or a global random source. Nodes
/// are woken exactly as the server's timer wakes them (``NodeDriver/nextWake``), so the simulator
/// explores the shell's own timing, quiet ticks delivered late included.
public final class ClusterSimulator {
    enum Event {
        /// A node's process starts its logical clock (at a random phase, so ticks are not aligned).
        case start(NodeID, incarnation: Int)
        /// The node's timer fires (void unless `generation` is still the node's current one).
        case wake(NodeID, incarnation: Int, generation: Int)
        case deliver(Message, from: NodeID, to: NodeID, incarnation: Int)
        /// The shell of `to` reports that `lost`'s process is gone (its connection dropped and
        /// reconnecting was refused): the fast-failover evidence of issue 7.
        case peerUnreachable(NodeID, to: NodeID, incarnation: Int)
        /// Issue 15: a holder of the node's lease stopped after the lease end at view index `through`.
        case holderStops(NodeID, incarnation: Int, holder: Int, through: UInt64)
        case injectFault
        case undo(Undo)
        case healAll
    }

    enum Undo {
        case restart(NodeID)
        case resume(NodeID)
        case network(Int)
        /// The disk works again; a node it halted is restarted (as a supervisor would, once its
        /// health check fails).
        case repairDisk(NodeID)
        /// Issue 15: the node is made eligible again.
        case eligible(NodeID)
    }

    let options: SimulationOptions
    let membership: Membership
    var nodes: [SimulatedNode] = []
    var queue = EventQueue<Event>()
    var network: NetworkModel
    var random: SplitMix64
    /// Draws for lease holders, apart from `random` so that holders do not reshuffle the rest.
    var holderRandom: SplitMix64
    var checker: InvariantChecker
    var result: SimulationResult
    /// Each node's status after the last event it handled: statuses change only when a driver
    /// runs, so the per-event checks read this instead of asking every node again.
    var statuses: [NodeStatus] = []
    /// The term each node currently leads, for ``SimulationResult/leaderClaims``.
    var leadingTerm: [Term?] = []
    /// How many nodes answered "I am the leader" after the last event (for split-brain time).
    var leaseHolderCount = 0
    /// A condition a script is waiting for, checked after every event.
    var watch: Watch?
    let time = VirtualTimeSource()
    var healedAt: VirtualTime?
    var nextFaultNumber = 0
    /// A reference, so that tracing does not need exclusive access to the simulator.
    let traceLog: TraceLog?
    /// When a message last reached each node from each other node (issue 15's preemption check).
    var lastDelivery: [Link: VirtualTime] = [:]

    var now: VirtualTime { time.now }

    public init(options: SimulationOptions) {
        self.options = options
        var master = SplitMix64(seed: options.seed)
        let count = options.nodes ?? [1, 2, 3, 3, 4, 5, 5, 7][Int(master.next() % 8)]
        membership = Membership((1...UInt64(count)).map { NodeID($0)! })
        network = NetworkModel(profile: options.network, random: master.split())
        random = master.split()
        holderRandom = SplitMix64(seed: options.seed ^ 0x484F_4C44_4552_5321)
        result = SimulationResult(options: options, nodeCount: count)
        checker = InvariantChecker(measured: options.measuredProperties)
        traceLog = options.trace ? TraceLog() : nil
        for id in membership.members {
            let rate = 1 + Double.random(in: -options.clockDrift...options.clockDrift, using: &random)
            let offset = UInt64.random(in: 1_000_000_000...1_000_000_000_000, using: &random)
            let clock = SimulatedClock(source: time, rate: rate, offset: offset)
            let disk = SimulatedDisk()
            let outbox = SimulatedOutbox(disk: disk)
            let observer = SimulatedObserver()
            let driver = Self.makeDriver(id, options: options, membership: membership, disk: disk, outbox: outbox,
                                         clock: clock, observer: observer, eligible: true, random: master.split())
            let holders = SimulatedHolders(count: options.algorithm == .raft ? holderCount() : 0, view: driver.view)
            nodes.append(SimulatedNode(id: id, driver: driver, clock: clock, disk: disk, outbox: outbox, observer: observer,
                                       holders: holders))
            statuses.append(driver.status)
            leadingTerm.append(nil)
        }
    }

    /// A driver for a fresh incarnation of `id`, built from what its disk holds.
    static func makeDriver(
        _ id: NodeID, options: SimulationOptions, membership: Membership, disk: SimulatedDisk,
        outbox: SimulatedOutbox, clock: SimulatedClock, observer: SimulatedObserver, eligible: Bool, random: SplitMix64
    ) -> NodeDriver {
        let candidacy = Candidacy(eligible: eligible, priority: options.priority(of: id))
        let core = options.algorithm.makeCore(
            id: id, membership: membership, raft: options.raftConfiguration, hardState: disk.state,
            candidacy: candidacy, random: random)
        let tick = Duration.microseconds(Int64(options.tickMicroseconds))
        let driver = NodeDriver(
            core: core, tick: tick, electionTimeout: tick * Int(options.electionTimeoutTicks), store: disk,
            outbox: outbox, clock: clock, observer: observer)
        driver.releasesLeases = options.releasesLeases
        return driver
    }

    /// Runs the fault phase, heals everything, runs the liveness phase, and reports.
    public static func run(_ options: SimulationOptions) -> SimulationResult {
        ClusterSimulator(options: options).run()
    }

    /// An independent simulator in the same state: scripted scenarios try two futures from one
    /// past (``ScriptedCluster`` keeps value semantics with it).
    func fork() -> ClusterSimulator {
        ClusterSimulator(forking: self)
    }

    private init(forking other: ClusterSimulator) {
        options = other.options
        membership = other.membership
        queue = other.queue
        network = other.network
        random = other.random
        holderRandom = other.holderRandom
        checker = other.checker
        result = other.result
        statuses = other.statuses
        leadingTerm = other.leadingTerm
        leaseHolderCount = other.leaseHolderCount
        watch = other.watch
        time.now = other.time.now
        healedAt = other.healedAt
        nextFaultNumber = other.nextFaultNumber
        lastDelivery = other.lastDelivery
        traceLog = other.traceLog.map { TraceLog(lines: $0.lines) }
        nodes = other.nodes.map { node in
            let clock = SimulatedClock(source: time, rate: node.clock.rate, offset: node.clock.offset)
            let disk = node.disk.fork()
            let outbox = SimulatedOutbox(disk: disk)
            let observer = SimulatedObserver()
            var copy = node
            copy.driver = node.driver.fork(store: disk, outbox: outbox, clock: clock, observer: observer)
            copy.clock = clock
            copy.disk = disk
            copy.outbox = outbox
            copy.observer = observer
            copy.holders = node.holders.fork(onto: copy.driver.view)
            return copy
        }
    }

    func run() -> SimulationResult {
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

    /// Starts every node's logical clock at a random phase within the first tick.
    func start() {
        for index in nodes.indices {
            let phase = UInt64.random(in: 0..<options.tickMicroseconds, using: &random)
            queue.schedule(.start(nodes[index].id, incarnation: nodes[index].incarnation), at: now + phase)
        }
    }

    /// Processes events up to `end`, checking invariants after each; stops at the first violation,
    /// or at the event that meets the ``watch``.
    func advance(to end: VirtualTime) {
        while checker.violations.isEmpty, let first = queue.firstTime, first <= end,
              let (at, event) = queue.popFirst()
        {
            accountOverlap(until: at)
            time.now = at
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
            time.now = end
        }
    }

    func finish() -> SimulationResult {
        result.violations = checker.violations
        result.measuredBreaches = checker.breaches
        result.endedWithPreferredLeader = endsWithPreferredLeader()
        result.trace = traceLog?.lines ?? []
        return result
    }

    // MARK: Events

    func handle(_ event: Event) {
        switch event {
        case .start(let id, let incarnation):
            let index = Self.index(of: id)
            guard nodes[index].incarnation == incarnation, nodes[index].condition != .crashed else { return }
            nodes[index].driver.startClock()
            settle(index)
        case .wake(let id, let incarnation, let generation):
            let index = Self.index(of: id)
            guard nodes[index].incarnation == incarnation, nodes[index].wakeGeneration == generation else { return }
            nodes[index].wakeAt = nil
            // A paused process's timer fires when it resumes; resume() wakes it then.
            guard nodes[index].isUp else { return }
            nodes[index].driver.deliverDueTicks()
            settle(index)
        case .deliver(let message, let from, let to, let incarnation):
            let index = Self.index(of: to)
            guard nodes[index].incarnation == incarnation else { return }
            switch nodes[index].condition {
            case .crashed: return
            case .paused: nodes[index].inbox.append((message, from))
            case .up:
                trace("\(from)->\(to) \(describe(message))")
                lastDelivery[Link(from: from, to: to)] = now
                nodes[index].driver.receive(message, from: from)
                settle(index)
            }
        case .peerUnreachable(let lost, let to, let incarnation):
            let index = Self.index(of: to)
            guard nodes[index].incarnation == incarnation, nodes[index].isUp else { return }
            trace("node \(to) sees node \(lost)'s connection drop and reconnecting refused")
            nodes[index].driver.peerUnreachable(lost)
            settle(index)
        case .holderStops(let id, let incarnation, let holder, let through):
            let index = Self.index(of: id)
            guard nodes[index].incarnation == incarnation, nodes[index].condition != .crashed else { return }
            if nodes[index].condition == .paused {
                // Its confirmation waits in the paused node's socket; try again a tick later.
                queue.schedule(event, at: now + options.tickMicroseconds)
                return
            }
            holderStops(id, holder: holder, through: through)
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

    /// After a node's driver ran: checks and traces what it did, puts its messages on the network,
    /// refreshes its status, and sets its timer as the server would.
    func settle(_ index: Int) {
        let id = nodes[index].id
        let observer = nodes[index].observer
        for state in nodes[index].disk.saved { checker.recordPersist(state, of: id, at: now) }
        nodes[index].disk.saved.removeAll()
        for batch in observer.batches { account(batch, of: index) }
        observer.batches.removeAll()
        for detail in observer.brokenPromises { checker.fail(.timerPromise, at: now, detail) }
        observer.brokenPromises.removeAll()
        for halt in observer.halts {
            result.halts += 1
            trace("node \(id) halted: \(halt)")
        }
        observer.halts.removeAll()
        for term in observer.releases {
            trace("node \(id) released its lease of term \(term): every holder stopped")
            if nodes[index].holders.anyActing {
                checker.fail(.leaseSuccession, at: now, "node \(id) released its lease of term \(term) while a holder still acts")
            }
            checker.recordRelease(of: id, term: term, at: now)
            result.leaseReleases += 1
        }
        observer.releases.removeAll()
        noteHolderEvents(of: index)
        for (message, peer, durable) in nodes[index].outbox.sent {
            checker.checkSend(message, from: id, to: peer, durable: durable, at: now)
            transmit(message, from: id, to: peer)
        }
        nodes[index].outbox.sent.removeAll()
        refreshStatus(of: index)
        armWake(index)
    }

    /// Counts and traces one batch of actions a driver carried out.
    func account(_ actions: [Action], of index: Int) {
        let id = nodes[index].id
        for action in actions {
            switch action {
            case .persist, .send:
                break  // Checked through the disk and the outbox.
            case .roleChanged(let role, let term):
                trace("node \(id) became \(role) term \(term)")
            case .leaderChanged(let leader):
                if leader != nil { result.leaderChanges += 1 }
                trace("node \(id) now follows \(leader.map { "\($0.id) (term \($0.term))" } ?? "nobody")")
            case .campaignStarted(let phase, let term):
                if phase == .preVote || nodes[index].driver.status.role == .candidate { result.campaignsStarted += 1 }
                trace("node \(id) starts \(phase.rawValue) for term \(term)")
            case .campaignFinished(let outcome, let ticks):
                if outcome == .won { result.elections += 1 }
                trace("node \(id) campaign \(outcome.rawValue) after \(ticks) ticks")
            case .steppedDown(let reason):
                trace("node \(id) stepped down: \(reason.rawValue)")
            case .transferStarted(let target, let reason):
                trace("node \(id) hands leadership to \(target) (\(reason.rawValue))")
                if reason == .preemption { notePreemption(by: index, to: target) }
            case .transferFinished(let target, let outcome):
                trace("node \(id) transfer to \(target): \(outcome.rawValue)")
            }
        }
    }

    /// Sets the node's timer for its driver's next wake-up, unless an earlier one is already set
    /// (the server's rule: a timer set too early just fires and re-arms).
    func armWake(_ index: Int) {
        guard nodes[index].condition != .crashed, let target = nodes[index].driver.nextWake else { return }
        if let set = nodes[index].wakeAt, set <= target { return }
        nodes[index].wakeAt = target
        nodes[index].wakeGeneration += 1
        let at = max(nodes[index].clock.virtualTime(reaching: target), now)
        queue.schedule(.wake(nodes[index].id, incarnation: nodes[index].incarnation,
                             generation: nodes[index].wakeGeneration), at: at)
    }

    /// Reads a node's status after its driver ran, checks it, and notes a new leader claim.
    ///
    /// A halted node's core may hold state it failed to persist (a term, a vote, leadership): it
    /// never acts on it and a restart forgets it, so like a crashed node's it is not checked, and
    /// its last status from before the halt stands.
    func refreshStatus(of index: Int) {
        guard nodes[index].driver.halt == nil else { return }
        let status = nodes[index].driver.status
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

    func transmit(_ message: Message, from: NodeID, to: NodeID) {
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

    func faultGap() -> UInt64 {
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
    var lines: [String]

    init(lines: [String] = []) { self.lines = lines }
}
