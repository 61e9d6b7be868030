import BallotCore
import BallotRuntime
import BallotTestKit
import Synchronization
import Testing

/// The node driver's three rules — due ticks before every input, persist before anything after
/// it, the lease as a deadline on the clock — and the timer promise it holds every core to.
@Suite struct NodeDriverTests {
    static let tick = Duration.milliseconds(10)
    static let configuration = RaftConfiguration(electionTimeoutTicks: 10, heartbeatIntervalTicks: 2)

    struct Node {
        let clock = ManualClock()
        let store = MemoryStore()
        let outbox = CollectingOutbox()
        let observer = RecordingObserver()
        let driver: NodeDriver

        init(id: NodeID = 1, members: Int = 3, seed: UInt64 = 7, core: (any ElectionAlgorithm)? = nil) {
            let membership = Membership((1...UInt64(members)).map { NodeID(integerLiteral: $0) })
            let core = core ?? RaftNode(
                id: id, membership: membership, configuration: NodeDriverTests.configuration, random: SplitMix64(seed: seed))
            driver = NodeDriver(
                core: core, tick: NodeDriverTests.tick, electionTimeout: NodeDriverTests.tick * 10, store: store,
                outbox: outbox, clock: clock, observer: observer)
        }
    }

    @Test func everyTickDueByNowIsDeliveredBeforeAMessage() {
        let node = Node()
        node.driver.startClock()
        node.clock.advance(by: Self.tick * 7 + .milliseconds(3))
        #expect(node.driver.status.now == 0, "nothing runs until an input arrives")
        node.driver.receive(.heartbeat(Heartbeat(term: 1, sequence: 1, leaderLog: .empty)), from: 2)
        #expect(node.driver.status.now == 7, "the seven due ticks ran first")
        // The stickiness promise counts from the real present (tick 7), not from a stale tick 0.
        #expect(node.driver.status.leader == 2)
        #expect(node.driver.status.ticksSinceLeaderContact == 0)
        #expect(node.driver.clock.deliveredTicks == 7)
    }

    @Test func aFailedPersistHaltsTheNodeBeforeAnythingAfterIt() throws {
        let node = Node()
        node.driver.startClock()
        node.clock.advance(by: Self.tick * 30)  // Past the start-up stickiness window.
        node.driver.deliverDueTicks()
        _ = node.outbox.drain()
        node.store.failing = true
        let saved = node.store.saved.count
        // A vote request for a newer term: the node must persist the term and its vote first.
        node.driver.receive(.voteRequest(VoteRequest(term: 5, lastLog: .empty)), from: 2)
        #expect(node.store.saved.count == saved, "nothing was saved")
        #expect(node.outbox.drain().isEmpty, "no vote left the node")
        let halt = try #require(node.driver.halt)
        #expect(halt.reason == .stateWriteFailed)
        #expect(node.observer.halts == [halt])
        #expect(node.driver.view.current.halt == halt)
        #expect(node.driver.nextWake == nil, "a halted node is never woken")
        // Nothing more is acted on, and the last batch stopped at the failed persist.
        node.driver.receive(.voteRequest(VoteRequest(term: 6, lastLog: .empty)), from: 3)
        #expect(node.outbox.drain().isEmpty)
        let last = try #require(node.observer.batches.last)
        #expect(!last.actions.contains { if case .send = $0 { true } else { false } })
    }

    @Test func theLeaseIsADeadlineOnTheClockWhateverTickTheCoreReached() throws {
        let cluster = DriverCluster(seed: 5, configuration: Self.configuration)
        let leader = try #require(cluster.elect())
        cluster.run(ticks: 3)
        let status = cluster.status(leader)
        let expiry = try #require(status.leaseExpiry)
        let origin = try #require(cluster.driver(leader).clock.origin)
        let deadline = origin + DriverCluster.tick * Int(expiry)
        let view = cluster.view(leader).current
        #expect(view.lease == .until(deadline))
        #expect(view.isLeader(at: deadline - .nanoseconds(1)))
        #expect(!view.isLeader(at: deadline), "judged on the clock: no tick needs to run for the lease to end")
        #expect(view.leaseRemaining(at: deadline - .milliseconds(5)) == .milliseconds(5))
    }

    /// A leader cut off from its quorum is woken at its lease deadline (if that comes before its
    /// next tick that may act), so listeners hear of the lease's end when it happens.
    @Test func theEndOfALeaseIsAnnouncedAtItsDeadline() throws {
        let cluster = DriverCluster(seed: 5, configuration: Self.configuration)
        let leader = try #require(cluster.elect())
        cluster.run(ticks: 3)
        let events = EventLog()
        cluster.view(leader).addListener { events.append($0) }
        cluster.isolated = [leader]
        let deadline = try #require(cluster.view(leader).current.lease.deadline)
        cluster.run(maxTicks: 20) { _ in events.events.contains { if case .lease(let change, _) = $0 { change.ends } else { false } } }
        let end = try #require(events.events.compactMap { if case .lease(let change, _) = $0, change.ends { change } else { nil } }.first)
        #expect(end.at >= deadline)
        #expect(end.at < deadline + DriverCluster.tick, "announced within a tick of the deadline")
    }

    @Test func heartbeatRoundTripsAreMatchedToTheirHeartbeats() throws {
        let node = Node(members: 2)
        node.driver.startClock()
        // A one-peer leader: elect it by hand, answering its (pre-)vote requests.
        node.clock.advance(by: Self.tick * 25)
        node.driver.deliverDueTicks()
        for (message, _) in node.outbox.drain() {
            if case .preVoteRequest(let request) = message {
                node.driver.receive(.preVoteResponse(VoteResponse(term: request.term, granted: true)), from: 2)
            }
        }
        for (message, _) in node.outbox.drain() {
            if case .voteRequest(let request) = message {
                node.driver.receive(.voteResponse(VoteResponse(term: request.term, granted: true)), from: 2)
            }
        }
        #expect(node.driver.status.role == .leader)
        let heartbeats = node.outbox.drain().compactMap { if case .heartbeat(let h) = $0.message { h } else { nil } }
        let heartbeat = try #require(heartbeats.first)
        node.clock.advance(by: .microseconds(1_500))
        node.driver.receive(
            .heartbeatResponse(HeartbeatResponse(term: heartbeat.term, sequence: heartbeat.sequence, lastLog: .empty)),
            from: 2)
        #expect(node.observer.roundTrips.map(\.roundTrip) == [.microseconds(1_500)])
        #expect(node.driver.lastRoundTrip(to: 2) == .microseconds(1_500))
        #expect(node.driver.view.current.isLeader(at: node.clock.now), "the acknowledgement granted the lease")
        // The status page's last contact per peer: when its latest message arrived.
        #expect(node.driver.lastHeard(from: 2) == node.clock.now)
        #expect(node.driver.lastHeard(from: 3) == nil, "never heard from: no instant")
    }

    @Test func aFollowerIsWokenForItsElectionTimerAndNotBefore() throws {
        let node = Node()
        node.driver.startClock()
        let wake = try #require(node.driver.nextWake)
        let origin = try #require(node.driver.clock.origin)
        let ticks = Double((wake - origin).nanoseconds) / Double(Self.tick.nanoseconds)
        #expect(ticks >= 10 && ticks < 20, "the election timeout is drawn from [T, 2T)")
        node.clock.advance(by: wake - node.clock.now - .nanoseconds(1))
        node.driver.deliverDueTicks()
        #expect(node.outbox.drain().isEmpty, "the ticks before the wake-up are quiet")
        node.clock.advance(by: .nanoseconds(1))
        node.driver.deliverDueTicks()
        #expect(node.outbox.drain().contains { if case .preVoteRequest = $0.message { true } else { false } })
        #expect(node.observer.brokenPromises.isEmpty)
    }

    /// The negative control for the timer-promise check: a core that says its timer is one tick
    /// further away than it is gets caught the first time that tick acts.
    @Test func aCoreThatBreaksItsTimerPromiseIsCaught() {
        let membership = Membership([1, 2, 3])
        let honest = RaftNode(id: 1, membership: membership, configuration: Self.configuration, random: SplitMix64(seed: 3))
        let node = Node(core: LateTimer(honest))
        node.driver.startClock()
        node.clock.advance(by: Self.tick * 40)
        node.driver.deliverDueTicks()
        #expect(node.observer.brokenPromises.count >= 1)
        #expect(node.observer.brokenPromises.first?.contains("promised") == true)

        let control = Node(core: honest)
        control.driver.startClock()
        control.clock.advance(by: Self.tick * 40)
        control.driver.deliverDueTicks()
        #expect(control.observer.brokenPromises.isEmpty, "the honest core keeps its promise")
    }
}

/// A Raft core whose timer promise is one tick late while it follows.
struct LateTimer: ElectionAlgorithm {
    static let algorithmName = "late-timer"
    var inner: RaftNode
    init(_ inner: RaftNode) { self.inner = inner }
    var id: NodeID { inner.id }
    var membership: Membership { inner.membership }
    var status: NodeStatus { inner.status }
    var ticksUntilTimer: UInt64 { inner.status.role == .leader ? inner.ticksUntilTimer : inner.ticksUntilTimer + 1 }
    mutating func tick() -> [Action] { inner.tick() }
    mutating func receive(_ message: Message, from peer: NodeID) -> [Action] { inner.receive(message, from: peer) }
    mutating func transferLeadership(to target: NodeID) throws(TransferRefusal) -> [Action] {
        try inner.transferLeadership(to: target)
    }
    var preferredTransferTarget: NodeID? { inner.preferredTransferTarget }
    mutating func shutdown() -> [Action] { inner.shutdown() }
}

/// Collects a view's events from its listener.
final class EventLog: Sendable {
    private let recorded = Mutex<[LeadershipEvent]>([])
    func append(_ event: LeadershipEvent) { recorded.withLock { $0.append(event) } }
    var events: [LeadershipEvent] { recorded.withLock { $0 } }
}
