import BallotBackends
import BallotCore
import BallotRuntime
import Prometheus
import Synchronization

/// Produces the Prometheus series of METRICS.md for one node, so that the election core itself
/// never holds metrics code.
///
/// Leadership — role, term, leader, lease, leaderless intervals, last contact — is read from the
/// node's ``LeadershipView`` at scrape time: the recorder keeps no copy of it. Its counters come
/// from the node driver (as its ``NodeDriverObserver``: campaigns, step-downs, transfers,
/// heartbeats), from the view's events (leader changes, leaderless durations) and from the
/// transport (connections, round trips, messages, rejected frames).
///
/// Every duration comes from the monotonic clock, never from wall-clock differences. Values that
/// age on their own (`ballot_is_leader`'s lease, leader uptime, last contact) are judged at scrape
/// time, so a process that was paused reports an expired lease the moment it is scraped.
///
/// Thread-safe: the series are atomics, and one short lock guards the little the recorder keeps
/// (when the open campaign began). Use one recorder per registry.
public final class MetricsRecorder: Sendable, NodeDriverObserver, HardStateStoreObserver, BackendObserver {
    public let registry: PrometheusCollectorRegistry
    public let view: LeadershipView
    public let membership: Membership
    /// The length of one core tick, to turn the core's tick counts into durations.
    public let tickDuration: Duration

    public var nodeID: NodeID { view.node }

    private let series: MetricSeries
    private let state = Mutex(RecorderState())
    /// The largest exposition so far, to size the next render's buffer in one allocation.
    private let renderedSize = Atomic<Int>(0)

    /// Creates every series of this node, zero-valued, in `registry`, and starts following `view`.
    ///
    /// - Parameters:
    ///   - membership: the voting members, this node included; each other member gets its own
    ///     per-peer series (`peer` label = its node ID).
    ///   - algorithm: the election algorithm's name, e.g. `RaftNode.algorithmName`.
    ///   - backend: what elects: `raft` (Ballot's own peers, whatever the algorithm), `etcd` or `zookeeper`.
    ///   - version, revision: the build, for `ballot_build_info` (``BuildInfo`` in a real node).
    ///   - tickDuration: how long one core tick lasts.
    public init(
        view: LeadershipView, membership: Membership, algorithm: String, backend: String = BackendKind.raft.rawValue,
        version: String, revision: String = "unknown", tickDuration: Duration,
        registry: PrometheusCollectorRegistry = .init()
    ) {
        precondition(membership.contains(view.node), "node \(view.node) is not in its own membership")
        precondition(tickDuration > .zero, "the tick duration must be positive")
        self.registry = registry
        self.view = view
        self.membership = membership
        self.tickDuration = tickDuration
        series = MetricSeries(
            registry: registry, peers: membership.peers(of: view.node), version: version, revision: revision,
            algorithm: algorithm, backend: backend)
        series.clusterMembers.set(to: Double(membership.count))
        series.buildInfo.set(to: 1)
        series.roles[.follower].set(to: 1)
        if let start = ProcessSampler.startTime() { series.processStartTime.set(to: start) }
        let series = self.series
        view.addListener { event in
            guard case .elected(_, _, _, let leaderless, let isNewLeadership, _, _) = event else { return }
            if let leaderless { series.leaderlessDuration.record(leaderless) }
            if isNewLeadership { series.leaderChanges.increment() }
        }
    }

    // MARK: Driver events

    /// One batch of core actions, carried out at `instant`.
    public func executed(_ actions: [Action], at instant: MonotonicInstant) {
        for action in actions {
            switch action {
            case .persist, .roleChanged, .leaderChanged:
                break  // The view carries role, term and leader.
            case .send(let message, _):
                if case .heartbeat = message { series.heartbeatsSent.increment() }
            case .campaignStarted(let phase, _):
                series.electionsStarted[phase].increment()
                state.withLock { state in
                    if state.campaignStartedAt == nil { state.campaignStartedAt = instant }
                }
            case .campaignFinished(let outcome, let ticks):
                let started = state.withLock { state in
                    defer { state.campaignStartedAt = nil }
                    return state.campaignStartedAt
                }
                let duration = started.map { instant - $0 } ?? tickDuration * ticks
                series.electionDuration[outcome].record(max(duration, .zero))
            case .steppedDown(let reason):
                series.stepDowns[reason].increment()
            case .transferStarted(_, let reason):
                series.transfersStarted[reason].increment()
            case .transferFinished(_, let outcome):
                series.transfers[outcome].increment()
            }
        }
    }

    /// A heartbeat to `peer` was acknowledged after `roundTrip`.
    public func heartbeatAcknowledged(by peer: NodeID, after roundTrip: Duration) {
        series.roundTripTime.ifPresent(peer)?.record(max(roundTrip, .zero))
    }

    /// A heartbeat to `peer` could not be delivered, or was not acknowledged in time.
    public func heartbeatFailed(to peer: NodeID) {
        series.heartbeatFailures.ifPresent(peer)?.increment()
    }

    // MARK: Durable state

    /// One fsync of a hard-state save took `duration`.
    public func stateSynced(after duration: Duration) {
        series.stateFsyncDuration.record(max(duration, .zero))
    }

    /// A hard-state save failed (the driver halts the node; ``render(now:wallClockNow:)`` shows it).
    public func stateWriteFailed() {
        series.stateWriteFailures.increment()
    }

    // MARK: Coordination service (election backends)

    public func coordinationRenewed(after roundTrip: Duration) {
        series.coordinationRoundTrip.record(max(roundTrip, .zero))
    }

    public func coordinationConnected(_ connected: Bool) {
        series.coordinationConnected.set(to: connected ? 1 : 0)
    }

    public func coordinationFailed(_ failure: CoordinationFailure) {
        series.coordinationFailures[failure.rawValue].increment()
    }

    // MARK: Transport events

    /// An authenticated connection to `peer` came up (`true`) or went down (`false`).
    public func peerConnected(_ peer: NodeID, _ connected: Bool) {
        series.peerConnected.ifPresent(peer)?.set(to: connected ? 1 : 0)
    }

    /// Every holder of an ended lease stopped and the node released it (issue 15).
    public func leaseReleased() {
        series.leaseReleases.increment()
    }

    /// An outbound message to `peer` was dropped: no connection, or its send buffer was full.
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

    /// Whether peers must authenticate now (`ballot_peer_auth_enabled`).
    public func peerAuthEnabled(_ enabled: Bool) {
        series.peerAuthEnabled.set(to: enabled ? 1 : 0)
    }

    /// When the node's peer TLS credentials stop being valid, as Unix seconds; `nil` without TLS.
    public func peerCertificateExpiry(_ unixSeconds: Double?) {
        series.certificateExpiry.set(to: unixSeconds ?? 0)
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
    public func render(now: MonotonicInstant, wallClockNow: Double) -> [UInt8] {
        let process = ProcessSampler.sample()
        state.withLock { state in
            if let cpu = process.cpuSeconds, cpu > state.cpuSecondsReported {
                series.processCPUSeconds.increment(by: cpu - state.cpuSecondsReported)
                state.cpuSecondsReported = cpu
            }
        }
        let leadership = view.current
        series.isLeader.set(to: leadership.isLeader(at: now) ? 1 : 0)
        series.hasLeader.set(to: leadership.hasLeader ? 1 : 0)
        series.leaderID.set(to: Double(leadership.leader?.id.rawValue ?? 0))
        series.term.set(to: Double(leadership.term.rawValue))
        for role in Role.allCases {
            series.roles[role].set(to: role == leadership.role ? 1 : 0)
        }
        let uptime = leadership.leaderUptime(at: now)
        series.leaderUptime.set(to: uptime?.seconds ?? 0)
        series.leaderSince.set(to: uptime.map { wallClockNow - $0.seconds } ?? 0)
        series.leaderLastContact.set(to: leadership.sinceLeaderContact(at: now).seconds)
        for reason in Halt.Reason.allCases {
            series.halted[reason].set(to: leadership.halt?.reason == reason ? 1 : 0)
        }
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
}

/// The little the recorder keeps that no view knows: when the open campaign began (its duration
/// is measured on the monotonic clock, not in ticks), and the CPU time already reported.
struct RecorderState: Sendable {
    var campaignStartedAt: MonotonicInstant?
    /// The CPU time already added to `process_cpu_seconds_total`.
    var cpuSecondsReported: Double = 0
}
