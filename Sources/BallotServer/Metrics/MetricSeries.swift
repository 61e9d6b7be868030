import BallotBackends
import BallotCore
import BallotRuntime
import Prometheus

/// Every Prometheus series one node exports, created up front so that each one is present, at
/// zero, from the first scrape (`rate()` and `absent()` need that; see docs/metrics.md).
///
/// Names, types and labels follow the catalogue in METRICS.md. Series are reference types with
/// their own atomics, so the dictionaries here are built once and never change.
struct MetricSeries: Sendable {
    // Leadership as this node sees it.
    let isLeader: Gauge
    let hasLeader: Gauge
    let term: Gauge
    let roles: LabeledSeries<Role, Gauge>
    let leaderID: Gauge
    let leaderChanges: Counter
    let leaderUptime: Gauge
    let leaderSince: Gauge
    let leaderLastContact: Gauge
    let leaderlessDuration: DurationHistogram

    // Campaigns and leadership hand-over.
    let electionsStarted: LabeledSeries<CampaignPhase, Counter>
    let electionDuration: LabeledSeries<CampaignOutcome, DurationHistogram>
    let stepDowns: LabeledSeries<StepDownReason, Counter>
    let transfers: LabeledSeries<TransferOutcome, Counter>
    let transfersStarted: LabeledSeries<TransferReason, Counter>
    let leaseReleases: Counter

    // Peers and the peer protocol.
    let heartbeatsSent: Counter
    let heartbeatFailures: LabeledSeries<NodeID, Counter>
    let roundTripTime: LabeledSeries<NodeID, DurationHistogram>
    let peerConnected: LabeledSeries<NodeID, Gauge>
    let queueDropped: LabeledSeries<NodeID, Counter>
    let messagesSent: LabeledSeries<MessageKind, Counter>
    let messagesReceived: LabeledSeries<MessageKind, Counter>
    let bytesSent: Counter
    let bytesReceived: Counter
    let framesRejected: LabeledSeries<String, Counter>
    let peerAuthEnabled: Gauge
    let certificateExpiry: Gauge

    // Durable state.
    let halted: LabeledSeries<Halt.Reason, Gauge>
    let stateFsyncDuration: DurationHistogram
    let stateWriteFailures: Counter

    // The coordination service (etcd, ZooKeeper); present and zero on a Raft node.
    let coordinationConnected: Gauge
    let coordinationRoundTrip: DurationHistogram
    let coordinationFailures: LabeledSeries<String, Counter>

    // Identity.
    let clusterMembers: Gauge
    let buildInfo: Gauge

    // The standard process series.
    let processCPUSeconds: Counter
    let processResidentMemory: Gauge
    let processVirtualMemory: Gauge
    let processStartTime: Gauge
    let processOpenFDs: Gauge
    let processMaxFDs: Gauge

    init(
        registry: PrometheusCollectorRegistry, peers: [NodeID], version: String, revision: String, algorithm: String,
        backend: String
    ) {
        func counter(_ name: String, _ help: String, _ labels: [(String, String)] = []) -> Counter {
            registry.makeCounter(descriptor: Self.descriptor(name, help), labels: labels)
        }
        func gauge(_ name: String, _ help: String, _ labels: [(String, String)] = []) -> Gauge {
            registry.makeGauge(descriptor: Self.descriptor(name, help), labels: labels)
        }
        func histogram(_ name: String, _ help: String, _ labels: [(String, String)], _ buckets: [Duration])
            -> DurationHistogram
        {
            registry.makeDurationHistogram(descriptor: Self.descriptor(name, help), labels: labels, buckets: buckets)
        }

        isLeader = gauge(
            "ballot_is_leader",
            "1 while this node leads and holds a quorum lease, judged at scrape time on the monotonic clock; else 0.")
        hasLeader = gauge("ballot_has_leader", "1 while this node knows a live leader for its current term; else 0.")
        term = gauge("ballot_term", "The current Raft term of this node.")
        roles = LabeledSeries(Role.allCases) { role in
            gauge("ballot_role", "1 for the role this node holds now, 0 for the others.", [("role", role.rawValue)])
        }
        leaderID = gauge("ballot_leader_id", "Node ID of the leader this node knows; 0 with no leader.")
        leaderChanges = counter(
            "ballot_leader_changes_total", "Times this node saw the leader change: a new leader, or a new term's leader.")
        leaderUptime = gauge(
            "ballot_leader_uptime_seconds",
            "How long the current leader has held leadership as this node knows it; 0 with no leader.")
        leaderSince = gauge(
            "ballot_leader_since_timestamp_seconds",
            "Unix time at which the current leadership began as seen here; 0 with no leader.")
        leaderLastContact = gauge(
            "ballot_leader_last_contact_seconds",
            "Seconds since this node last heard from a leader (since start-up if never); 0 on the leader.")
        leaderlessDuration = histogram(
            "ballot_leaderless_duration_seconds",
            "From losing the leader (start-up, timeout, step-down) until a leader is known again.",
            [], Self.electionBuckets)

        electionsStarted = LabeledSeries(CampaignPhase.allCases) { phase in
            counter("ballot_elections_started_total", "Campaign phases this node started.", [("phase", phase.rawValue)])
        }
        electionDuration = LabeledSeries(CampaignOutcome.allCases) { outcome in
            histogram(
                "ballot_election_duration_seconds",
                "From starting a campaign (pre-vote included) to its end, by outcome.",
                [("outcome", outcome.rawValue)], Self.electionBuckets)
        }
        stepDowns = LabeledSeries(StepDownReason.allCases) { reason in
            counter("ballot_step_downs_total", "Leaderships this node gave up, by reason.", [("reason", reason.rawValue)])
        }
        transfers = LabeledSeries(TransferOutcome.allCases) { outcome in
            counter(
                "ballot_leadership_transfers_total", "Leadership transfers this node started, by how they ended.",
                [("outcome", outcome.rawValue)])
        }
        transfersStarted = LabeledSeries(TransferReason.allCases) { reason in
            counter(
                "ballot_leadership_transfers_started_total",
                "Leadership transfers this node started as leader, by why: asked for, resignation, made ineligible, preemption by a higher priority.",
                [("reason", reason.rawValue)])
        }
        leaseReleases = counter(
            "ballot_lease_releases_total",
            "Leases this node released before their deadline because every registered holder (whileLeader bodies, ballot run sidecars) confirmed it stopped; the successor's lease then began without waiting.")

        heartbeatsSent = counter(
            "ballot_heartbeats_sent_total", "Heartbeat messages this node sent as leader, one per peer per broadcast.")
        heartbeatFailures = LabeledSeries(peers) { peer in
            counter(
                "ballot_heartbeat_failures_total",
                "Heartbeats to the peer that could not be delivered or were not acknowledged in time.",
                [("peer", peer.description)])
        }
        roundTripTime = LabeledSeries(peers) { peer in
            histogram(
                "ballot_peer_round_trip_time_seconds", "Heartbeat round trip to the peer.",
                [("peer", peer.description)], Self.roundTripBuckets)
        }
        peerConnected = LabeledSeries(peers) { peer in
            gauge(
                "ballot_peer_connected", "1 while an authenticated connection to the peer is up.",
                [("peer", peer.description)])
        }
        queueDropped = LabeledSeries(peers) { peer in
            counter(
                "ballot_peer_queue_dropped_total",
                "Outbound messages to the peer dropped because its bounded send queue was full.",
                [("peer", peer.description)])
        }
        messagesSent = LabeledSeries(MessageKind.allCases) { kind in
            counter("ballot_peer_messages_sent_total", "Peer protocol messages sent, by type.", [("type", kind.rawValue)])
        }
        messagesReceived = LabeledSeries(MessageKind.allCases) { kind in
            counter(
                "ballot_peer_messages_received_total", "Peer protocol messages received, by type.",
                [("type", kind.rawValue)])
        }
        bytesSent = counter("ballot_peer_bytes_sent_total", "Peer protocol bytes sent.")
        bytesReceived = counter("ballot_peer_bytes_received_total", "Peer protocol bytes received.")
        framesRejected = LabeledSeries(Self.frameRejectionReasons) { reason in
            counter(
                "ballot_peer_frames_rejected_total", "Peer frames or handshakes refused, by reason.",
                [("reason", reason)])
        }

        peerAuthEnabled = gauge(
            "ballot_peer_auth_enabled",
            "1 while peers must authenticate (mutual TLS, the cluster secret, or both); 0 when anyone who reaches the peer port is accepted.")
        certificateExpiry = gauge(
            "ballot_peer_tls_certificate_expiry_timestamp_seconds",
            "Unix time at which the earliest of this node's peer TLS certificate and its CA certificates expires; 0 without TLS.")
        halted = LabeledSeries(Halt.Reason.allCases) { reason in
            gauge(
                "ballot_halted",
                "1 while this node has stopped taking part in elections for the reason in the label; else 0.",
                [("reason", reason.rawValue)])
        }
        stateFsyncDuration = histogram(
            "ballot_state_fsync_duration_seconds",
            "Each fsync of a hard-state save: the new file, then its directory (two per save).", [], Self.fsyncBuckets)
        stateWriteFailures = counter(
            "ballot_state_write_failures_total", "Hard-state saves that failed (write, fsync or rename); each halts the node.")

        coordinationConnected = gauge(
            "ballot_coordination_connected",
            "1 while this node's session with its coordination service (etcd lease, ZooKeeper session) is being renewed; 0 otherwise and on Raft nodes.")
        coordinationRoundTrip = histogram(
            "ballot_coordination_round_trip_seconds",
            "From sending a renewal (etcd keep-alive, ZooKeeper request) to its answer.", [], Self.roundTripBuckets)
        coordinationFailures = LabeledSeries(Self.coordinationFailureReasons) { reason in
            counter(
                "ballot_coordination_failures_total",
                "Requests to the coordination service that failed, or answers refused, by reason.", [("reason", reason)])
        }

        clusterMembers = gauge("ballot_cluster_members", "Voting members configured in this cluster.")
        buildInfo = gauge(
            "ballot_build_info",
            "Always 1; the labels name the build (version and git revision), the election algorithm and the backend that elects.",
            [("version", version), ("revision", revision), ("algorithm", algorithm), ("backend", backend)])

        processCPUSeconds = counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.")
        processResidentMemory = gauge("process_resident_memory_bytes", "Resident memory size in bytes.")
        processVirtualMemory = gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.")
        processStartTime = gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.")
        processOpenFDs = gauge("process_open_fds", "Number of open file descriptors.")
        processMaxFDs = gauge("process_max_fds", "Maximum number of open file descriptors.")
    }

    /// A descriptor carrying the full metric name verbatim, so every name in this file greps.
    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// Election and leaderless durations: 1 ms (loopback failover) to 30 s (slow WAN), each bound
    /// 1.25–2× the previous, densest across 100 ms – 1 s where election timeouts usually sit.
    static let electionBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(4), .milliseconds(8), .milliseconds(15),
        .milliseconds(25), .milliseconds(40), .milliseconds(60), .milliseconds(100), .milliseconds(150),
        .milliseconds(200), .milliseconds(300), .milliseconds(400), .milliseconds(500), .milliseconds(750),
        .seconds(1), .milliseconds(1500), .seconds(2), .seconds(3), .seconds(5), .seconds(8), .seconds(12),
        .seconds(20), .seconds(30),
    ]

    /// Heartbeat round trips: 100 µs (same host) to 5 s (a peer about to be declared dead).
    static let roundTripBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
    ]

    /// Fsyncs: 50 µs (NVMe with a write cache) to 10 s (a disk about to be declared dead); etcd
    /// warns above 10 ms for its WAL, so the bounds are densest around there.
    static let fsyncBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
        .milliseconds(2), .milliseconds(4), .milliseconds(8), .milliseconds(16), .milliseconds(32),
        .milliseconds(64), .milliseconds(128), .milliseconds(256), .milliseconds(512), .seconds(1),
        .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    /// The `reason` values of `ballot_peer_frames_rejected_total`: the wire protocol's rejection
    /// reasons (docs/protocol.md §5; `auth` also counts refused TLS handshakes), the connections
    /// closed for not completing their handshake in time or for exceeding the cap on handshaking
    /// connections, the runtime's `queue_full`, and `other` for anything else so that a typo can
    /// never create an unbounded label.
    static let frameRejectionReasons = [
        "malformed", "oversized", "wrong_cluster", "unknown_node", "bad_version", "auth", "unknown_type",
        "handshake_timeout", "too_many_handshakes", "queue_full", "other",
    ]

    /// The `reason` values of `ballot_coordination_failures_total` (``CoordinationFailure``).
    static let coordinationFailureReasons = CoordinationFailure.allCases.map(\.rawValue)
}

/// One series per label value, created together; every value it was built with has a series.
struct LabeledSeries<Key: Hashable & Sendable, Series: Sendable>: Sendable {
    private let table: [Key: Series]

    init(_ keys: some Sequence<Key>, _ make: (Key) -> Series) {
        table = Dictionary(keys.map { ($0, make($0)) }, uniquingKeysWith: { first, _ in first })
    }

    /// The series of a value the table was built with; asking for another is a programming error.
    subscript(key: Key) -> Series {
        guard let series = table[key] else { preconditionFailure("no series was created for label value \(key)") }
        return series
    }

    /// The series of `key`, or `nil` for a value the table was not built with (an unknown peer).
    func ifPresent(_ key: Key) -> Series? { table[key] }
}
