import BallotCore
import Prometheus
import Synchronization

/// Turns one node's core actions and transport events into the Prometheus series of METRICS.md,
/// so that the election core itself never holds metrics code.
///
/// The runtime feeds it every batch of actions the core returns (``record(_:status:at:)``), the
/// transport's events (connections, round trips, messages, rejected frames) and, at start,
/// ``startedUp(at:status:)``; ``render(now:wallClockNow:)`` produces `GET /metrics`.
///
/// Every duration comes from the monotonic clock the caller passes in, never from wall-clock
/// differences, so clock steps cannot distort an election time. Values that age on their own
/// (`ballot_is_leader`'s lease, leader uptime, last contact) are judged at scrape time, so a
/// process that was paused reports an expired lease the moment it is scraped, not once the core
/// runs again.
///
/// Thread-safe: one short lock guards the leadership bookkeeping; the series are atomics. Use one
/// recorder per registry: a second recorder on the same registry would share its series.
public final class MetricsRecorder: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let nodeID: NodeID
    public let membership: Membership
    /// The length of one core tick, to turn the core's tick counts into durations.
    public let tickDuration: Duration

    /// How many leadership changes ``recentLeadershipChanges(now:wallClockNow:)`` keeps.
    public static let recentChangesLimit = 20

    private let series: MetricSeries
    private let state = Mutex(RecorderState())
    /// The largest exposition so far, to size the next render's buffer in one allocation.
    private let renderedSize = Atomic<Int>(0)

    /// Creates every series of this node, zero-valued, in `registry`.
    ///
    /// - Parameters:
    ///   - membership: the voting members, this node included; each other member gets its own
    ///     per-peer series (`peer` label = its node ID).
    ///   - algorithm: the election algorithm's name, e.g. `RaftNode.algorithmName`.
    ///   - tickDuration: how long one core tick lasts (the interval at which the runtime calls `tick()`).
    public init(
        nodeID: NodeID, membership: Membership, algorithm: String, version: String, tickDuration: Duration,
        registry: PrometheusCollectorRegistry = .init()
    ) {
        precondition(membership.contains(nodeID), "node \(nodeID) is not in its own membership")
        precondition(tickDuration > .zero, "the tick duration must be positive")
        self.registry = registry
        self.nodeID = nodeID
        self.membership = membership
        self.tickDuration = tickDuration
        series = MetricSeries(
            registry: registry, peers: membership.peers(of: nodeID), version: version, algorithm: algorithm)
        series.clusterMembers.set(to: Double(membership.count))
        series.buildInfo.set(to: 1)
        series.roles[.follower].set(to: 1)
        if let start = ProcessSampler.startTime() { series.processStartTime.set(to: start) }
    }

    // MARK: Core events

    /// Marks the node's start: the first leaderless interval begins here, and the status (the term
    /// restored from the hard state) is shown from the first scrape. Call it before the first
    /// ``record(_:status:at:)``; otherwise the first batch's instant is taken as the start.
    public func startedUp(at instant: ContinuousClock.Instant, status: NodeStatus) {
        state.withLock { state in
            state.absorb(status, at: instant, tick: tickDuration)
            state.start(at: instant)
            updateEventGauges(state)
        }
    }

    /// Feeds one batch of core actions, in order, with the monotonic instant they happened at and
    /// the core's status right after them.
    ///
    /// Call it after **every** core call (`tick`, `receive`, `transferLeadership`, `shutdown`), also
    /// when it returned no actions: an acknowledged heartbeat extends the lease without producing
    /// an action, and only the status shows it.
    ///
    /// `tickOrigin` is the instant logical tick 0 was due. When given, the lease ends no later than
    /// the instant its expiry tick is due, so a process that was paused — whose core has not yet
    /// caught up on the ticks it missed — never reports a lease that ran out while it slept.
    public func record(
        _ actions: [Action], status: NodeStatus, at instant: ContinuousClock.Instant,
        tickOrigin: ContinuousClock.Instant? = nil
    ) {
        state.withLock { state in
            if state.startedAt == nil { state.start(at: instant) }
            for action in actions {
                apply(action, at: instant, to: &state)
            }
            state.absorb(status, at: instant, tick: tickDuration, tickOrigin: tickOrigin)
            updateEventGauges(state)
        }
    }

    private func apply(_ action: Action, at instant: ContinuousClock.Instant, to state: inout RecorderState) {
        switch action {
        case .persist, .roleChanged:
            break  // The status after the batch carries the role and term.
        case .send(let message, _):
            if case .heartbeat = message { series.heartbeatsSent.increment() }
        case .leaderChanged(nil):
            state.loseLeader(at: instant)
        case .leaderChanged(let leader?):
            let found = state.findLeader(leader, at: instant)
            if let leaderless = found.leaderless { series.leaderlessDuration.record(leaderless) }
            if found.isChange { series.leaderChanges.increment() }
        case .campaignStarted(let phase, _):
            series.electionsStarted[phase].increment()
            if state.campaignStartedAt == nil { state.campaignStartedAt = instant }
        case .campaignFinished(let outcome, let ticks):
            let duration = state.campaignStartedAt.map { instant - $0 } ?? tickDuration * ticks
            state.campaignStartedAt = nil
            series.electionDuration[outcome].record(max(duration, .zero))
        case .steppedDown(let reason):
            series.stepDowns[reason].increment()
            state.loseLeader(at: instant)
        case .transferFinished(_, let outcome):
            series.transfers[outcome].increment()
        }
    }

    private func updateEventGauges(_ state: RecorderState) {
        series.term.set(to: Double(state.term.rawValue))
        for role in Role.allCases {
            series.roles[role].set(to: role == state.role ? 1 : 0)
        }
        series.hasLeader.set(to: state.leader == nil ? 0 : 1)
        series.leaderID.set(to: Double(state.leader?.rawValue ?? 0))
    }

    // MARK: Transport events

    /// An authenticated connection to `peer` came up (`true`) or went down (`false`).
    public func peerConnected(_ peer: NodeID, _ connected: Bool) {
        series.peerConnected.ifPresent(peer)?.set(to: connected ? 1 : 0)
    }

    /// A heartbeat to `peer` was acknowledged after `rtt`.
    public func heartbeatRoundTrip(_ peer: NodeID, _ rtt: Duration) {
        series.roundTripTime.ifPresent(peer)?.record(max(rtt, .zero))
    }

    /// A heartbeat to `peer` could not be delivered, or was not acknowledged in time.
    public func heartbeatFailure(_ peer: NodeID) {
        series.heartbeatFailures.ifPresent(peer)?.increment()
    }

    /// An outbound message to `peer` was dropped because the peer's bounded send queue was full.
    public func peerQueueDropped(_ peer: NodeID) {
        series.queueDropped.ifPresent(peer)?.increment()
    }

    /// A peer protocol message of `bytes` bytes (the whole frame) was written to a connection.
    public func messageSent(_ kind: MessageKind, bytes: Int) {
        series.messagesSent[kind].increment()
        series.bytesSent.increment(by: Int64(max(bytes, 0)))
    }

    /// A peer protocol message of `bytes` bytes (the whole frame) was read and decoded.
    public func messageReceived(_ kind: MessageKind, bytes: Int) {
        series.messagesReceived[kind].increment()
        series.bytesReceived.increment(by: Int64(max(bytes, 0)))
    }

    /// Peer protocol bytes of frames that carry no election message (handshakes and their replies),
    /// so that the byte counters cover all peer traffic.
    public func handshakeBytes(sent: Int = 0, received: Int = 0) {
        series.bytesSent.increment(by: Int64(max(sent, 0)))
        series.bytesReceived.increment(by: Int64(max(received, 0)))
    }

    /// A frame or handshake was refused. `reason` is a wire rejection reason (`WireError.metricReason`:
    /// malformed, oversized, wrong_cluster, unknown_node, bad_version, auth, unknown_type) or
    /// `queue_full`; anything else is counted as `other`, so the label stays bounded.
    public func frameRejected(reason: String) {
        let known = series.framesRejected.ifPresent(reason)
        (known ?? series.framesRejected["other"]).increment()
    }

    // MARK: Reading

    /// The exposition text (format 0.0.4) for `GET /metrics`.
    ///
    /// First refreshes the scrape-time gauges (lease, leader uptime and since, last contact, the
    /// `process_*` series from `/proc`), then emits the registry. Holds the recorder's lock only to
    /// copy a few values, so the election loop is never held up by a scrape.
    /// - Parameters:
    ///   - now: the monotonic instant of the scrape, on the same clock as the recorded instants.
    ///   - wallClockNow: the same moment as Unix seconds, for `ballot_leader_since_timestamp_seconds`.
    public func render(now: ContinuousClock.Instant, wallClockNow: Double) -> [UInt8] {
        let process = ProcessSampler.sample()
        let view = state.withLock { state in
            if let cpu = process.cpuSeconds, cpu > state.cpuSecondsReported {
                series.processCPUSeconds.increment(by: cpu - state.cpuSecondsReported)
                state.cpuSecondsReported = cpu
            }
            return state.scrapeView(at: now)
        }
        series.isLeader.set(to: view.isLeader ? 1 : 0)
        series.leaderUptime.set(to: view.leaderUptime.map(Self.seconds) ?? 0)
        series.leaderSince.set(to: view.leaderUptime.map { wallClockNow - Self.seconds($0) } ?? 0)
        series.leaderLastContact.set(to: Self.seconds(view.sinceLeaderContact))
        if let value = process.residentBytes { series.processResidentMemory.set(to: value) }
        if let value = process.virtualBytes { series.processVirtualMemory.set(to: value) }
        if let value = process.openFDs { series.processOpenFDs.set(to: value) }
        if let value = process.maxFDs { series.processMaxFDs.set(to: value) }

        var buffer: [UInt8] = []
        buffer.reserveCapacity(renderedSize.load(ordering: .relaxed) + 1024)
        registry.emit(into: &buffer)
        renderedSize.store(buffer.count, ordering: .relaxed)
        return buffer
    }

    /// The last ``recentChangesLimit`` leadership changes, oldest first, for the status page.
    public func recentLeadershipChanges(now: ContinuousClock.Instant, wallClockNow: Double) -> [LeadershipChange] {
        state.withLock { $0.recentChanges }.map { change in
            LeadershipChange(
                leader: change.leader, observedAt: change.at,
                unixTime: wallClockNow - Self.seconds(now - change.at),
                leaderlessDuration: change.leaderless)
        }
    }

    /// Whether this node knew a leader after the last batch: what `/readyz` reports.
    public func hasLeader() -> Bool {
        state.withLock { $0.leader != nil }
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}

/// The leadership bookkeeping behind the series: what the node believed after the last batch,
/// and when each open interval (campaign, leaderless stretch, leadership) began.
struct RecorderState: Sendable {
    var startedAt: ContinuousClock.Instant?
    var role: Role = .follower
    var term: Term = .zero
    /// The leader the core knew after the last batch.
    var leader: NodeID?
    /// The latest leadership seen (kept across a brief loss of contact with the same leader), and
    /// when this node learned of it.
    var leadership: (info: LeaderInfo, since: ContinuousClock.Instant)?
    var leaderlessSince: ContinuousClock.Instant?
    var campaignStartedAt: ContinuousClock.Instant?
    var lease: Lease = .none
    /// The latest instant this node is known to have heard from a leader (or been one).
    var lastLeaderContact: ContinuousClock.Instant?
    var recentChanges: [RecordedChange] = []
    /// The CPU time already added to `process_cpu_seconds_total`.
    var cpuSecondsReported: Double = 0

    struct RecordedChange: Sendable {
        let leader: LeaderInfo
        let at: ContinuousClock.Instant
        let leaderless: Duration?
    }

    /// The leader's quorum lease, as an instant on the monotonic clock.
    enum Lease: Sendable {
        case none
        case until(ContinuousClock.Instant)
        /// A single-node cluster is its own quorum; its lease never runs out.
        case unbounded

        func isValid(at now: ContinuousClock.Instant) -> Bool {
            switch self {
            case .none: false
            case .until(let end): now < end
            case .unbounded: true
            }
        }
    }

    /// What a scrape needs, copied out under the lock.
    struct ScrapeView: Sendable {
        var isLeader: Bool
        var leaderUptime: Duration?
        var sinceLeaderContact: Duration
    }

    mutating func start(at instant: ContinuousClock.Instant) {
        startedAt = instant
        if leader == nil, leaderlessSince == nil { leaderlessSince = instant }
    }

    /// Opens a leaderless interval unless one is already open.
    mutating func loseLeader(at instant: ContinuousClock.Instant) {
        if leaderlessSince == nil { leaderlessSince = instant }
    }

    /// Closes any leaderless interval; records a change if the leader or its term is new.
    mutating func findLeader(_ info: LeaderInfo, at instant: ContinuousClock.Instant)
        -> (leaderless: Duration?, isChange: Bool)
    {
        let leaderless = leaderlessSince.map { max(instant - $0, .zero) }
        leaderlessSince = nil
        guard leadership?.info != info else { return (leaderless, false) }
        leadership = (info, instant)
        recentChanges.append(RecordedChange(leader: info, at: instant, leaderless: leaderless))
        if recentChanges.count > MetricsRecorder.recentChangesLimit {
            recentChanges.removeFirst(recentChanges.count - MetricsRecorder.recentChangesLimit)
        }
        return (leaderless, true)
    }

    /// Takes over the core's view after a batch, converting its tick counts to instants.
    mutating func absorb(
        _ status: NodeStatus, at instant: ContinuousClock.Instant, tick: Duration,
        tickOrigin: ContinuousClock.Instant? = nil
    ) {
        role = status.role
        term = status.term
        leader = status.leader
        if status.role == .leader, let expiry = status.leaseExpiry, expiry > status.now {
            if expiry == .max {
                lease = .unbounded
            } else {
                let byBatch = instant + tick * (expiry - status.now)
                lease = .until(tickOrigin.map { min(byBatch, $0 + tick * expiry) } ?? byBatch)
            }
        } else {
            lease = .none
        }
        let contact: ContinuousClock.Instant? =
            if status.role == .leader { instant } else { status.ticksSinceLeaderContact.map { instant - tick * $0 } }
        if let contact { lastLeaderContact = max(lastLeaderContact ?? contact, contact) }
    }

    func scrapeView(at now: ContinuousClock.Instant) -> ScrapeView {
        let uptime: Duration? =
            if let leadership, leadership.info.id == leader { max(now - leadership.since, .zero) } else { nil }
        let sinceContact: Duration =
            if role == .leader { .zero } else { (lastLeaderContact ?? startedAt).map { max(now - $0, .zero) } ?? .zero }
        return ScrapeView(
            isLeader: role == .leader && lease.isValid(at: now), leaderUptime: uptime, sinceLeaderContact: sinceContact)
    }
}
