import BallotRuntime
import BallotCore
import BallotClient
import BallotHarness
import BallotServer
import Foundation
import Testing

/// The exposition itself: every required series from the first scrape, promtool's verdict, the
/// transport events, the status-page history and the process series.
extension MetricsRecorderTests {
    static let peers: [NodeID] = [2, 3]

    func makeRecorder(view: LeadershipView = LeadershipView(node: 1)) -> MetricsRecorder {
        MetricsRecorder(
            view: view, membership: Membership([1, 2, 3]), algorithm: "raft", version: "1.2.3",
            revision: "0123456789abcdef0123456789abcdef01234567", tickDuration: .milliseconds(10))
    }

    /// The catalogue of METRICS.md: name and type of every required family.
    static let requiredFamilies: [(name: String, type: String)] = [
        ("ballot_is_leader", "gauge"),
        ("ballot_has_leader", "gauge"),
        ("ballot_term", "gauge"),
        ("ballot_role", "gauge"),
        ("ballot_leader_changes_total", "counter"),
        ("ballot_elections_started_total", "counter"),
        ("ballot_election_duration_seconds", "histogram"),
        ("ballot_leaderless_duration_seconds", "histogram"),
        ("ballot_leader_uptime_seconds", "gauge"),
        ("ballot_leader_since_timestamp_seconds", "gauge"),
        ("ballot_leader_last_contact_seconds", "gauge"),
        ("ballot_step_downs_total", "counter"),
        ("ballot_heartbeats_sent_total", "counter"),
        ("ballot_heartbeat_failures_total", "counter"),
        ("ballot_peer_round_trip_time_seconds", "histogram"),
        ("ballot_peer_connected", "gauge"),
        ("ballot_peer_messages_sent_total", "counter"),
        ("ballot_peer_messages_received_total", "counter"),
        ("ballot_peer_bytes_sent_total", "counter"),
        ("ballot_peer_bytes_received_total", "counter"),
        ("ballot_peer_frames_rejected_total", "counter"),
        ("ballot_cluster_members", "gauge"),
        ("ballot_build_info", "gauge"),
        ("process_cpu_seconds_total", "counter"),
        ("process_resident_memory_bytes", "gauge"),
        ("process_start_time_seconds", "gauge"),
        ("process_open_fds", "gauge"),
        // Added by the peer-trust round (METRICS.md, "Series this round adds").
        ("ballot_peer_auth_enabled", "gauge"),
        ("ballot_peer_tls_certificate_expiry_timestamp_seconds", "gauge"),
    ]

    /// Series beyond the catalogue, documented in docs/metrics.md.
    static let extraFamilies: [(name: String, type: String)] = [
        ("ballot_leader_id", "gauge"),
        ("ballot_leadership_transfers_total", "counter"),
        ("ballot_leadership_transfers_started_total", "counter"),
        ("ballot_lease_releases_total", "counter"),
        ("ballot_peer_queue_dropped_total", "counter"),
        ("process_virtual_memory_bytes", "gauge"),
        ("process_max_fds", "gauge"),
        ("ballot_halted", "gauge"),
        ("ballot_state_fsync_duration_seconds", "histogram"),
        ("ballot_state_write_failures_total", "counter"),
        ("ballot_coordination_connected", "gauge"),
        ("ballot_coordination_round_trip_seconds", "histogram"),
        ("ballot_coordination_failures_total", "counter"),
    ]

    @Test func firstScrapeHasEveryRequiredSeriesAtZero() throws {
        let recorder = makeRecorder()
        let metrics = try Exposition(recorder.render(now: SystemMonotonicClock.now, wallClockNow: 1_700_000_000))

        for (name, type) in Self.requiredFamilies + Self.extraFamilies {
            #expect(metrics.types[name] == type, "TYPE of \(name)")
            #expect(metrics.help[name].map { !$0.isEmpty } == true, "HELP of \(name)")
        }
        #expect(Set(metrics.types.keys) == Set((Self.requiredFamilies + Self.extraFamilies).map(\.name)))

        func expectFamily(_ name: String, label: String, values: [String], each value: Double) {
            let samples = metrics.samples(named: name)
            #expect(samples.map { $0.labels[label] ?? "" }.sorted() == values.sorted(), "\(name) series")
            #expect(samples.allSatisfy { $0.value == value }, "\(name) values")
        }
        let peerLabels = Self.peers.map(\.description)
        let kinds = MessageKind.allCases.map(\.rawValue)
        expectFamily("ballot_elections_started_total", label: "phase", values: ["pre_vote", "vote"], each: 0)
        expectFamily(
            "ballot_step_downs_total", label: "reason",
            values: ["higher_term", "lost_quorum", "transfer", "shutdown", "resigned"], each: 0)
        expectFamily(
            "ballot_leadership_transfers_started_total", label: "reason",
            values: ["requested", "resignation", "ineligible", "preemption"], each: 0)
        expectFamily("ballot_heartbeat_failures_total", label: "peer", values: peerLabels, each: 0)
        expectFamily("ballot_peer_connected", label: "peer", values: peerLabels, each: 0)
        expectFamily("ballot_peer_queue_dropped_total", label: "peer", values: peerLabels, each: 0)
        expectFamily("ballot_peer_messages_sent_total", label: "type", values: kinds, each: 0)
        expectFamily("ballot_peer_messages_received_total", label: "type", values: kinds, each: 0)
        expectFamily(
            "ballot_peer_frames_rejected_total", label: "reason",
            values: [
                "malformed", "oversized", "wrong_cluster", "unknown_node", "bad_version", "auth", "unknown_type",
                "handshake_timeout", "too_many_handshakes", "queue_full", "other",
            ], each: 0)
        // A recorder starts at 0 for both; the node's PeerTrustStore sets them as it loads its credentials.
        for name in ["ballot_peer_auth_enabled", "ballot_peer_tls_certificate_expiry_timestamp_seconds"] {
            #expect(metrics.samples(named: name).map(\.value) == [0], "\(name) present at 0")
        }
        expectFamily(
            "ballot_leadership_transfers_total", label: "outcome", values: ["completed", "timed_out", "abandoned"],
            each: 0)
        expectFamily("ballot_peer_round_trip_time_seconds_count", label: "peer", values: peerLabels, each: 0)
        expectFamily(
            "ballot_election_duration_seconds_count", label: "outcome", values: ["won", "lost", "timed_out"], each: 0)
        // The coordination-service series are present and zero on a Raft node, as dashboards need.
        expectFamily(
            "ballot_coordination_failures_total", label: "reason",
            values: ["malformed", "oversized", "connect_failed", "closed", "timed_out", "service_error", "unauthenticated", "expired"],
            each: 0)
        #expect(metrics.value("ballot_coordination_connected") == 0)
        #expect(metrics.count("ballot_coordination_round_trip_seconds") == 0)

        #expect(metrics.samples(named: "ballot_role").count == 4)
        #expect(metrics.value("ballot_role", ["role": "follower"]) == 1)
        for role in ["pre_candidate", "candidate", "leader"] {
            #expect(metrics.value("ballot_role", ["role": role]) == 0)
        }
        for name in [
            "ballot_is_leader", "ballot_has_leader", "ballot_term", "ballot_leader_changes_total",
            "ballot_leader_uptime_seconds", "ballot_leader_since_timestamp_seconds",
            "ballot_leader_last_contact_seconds", "ballot_heartbeats_sent_total", "ballot_peer_bytes_sent_total",
            "ballot_peer_bytes_received_total", "ballot_leader_id",
        ] {
            #expect(metrics.value(name) == 0, "\(name)")
        }
        #expect(metrics.count("ballot_leaderless_duration_seconds") == 0)
        #expect(metrics.value("ballot_leaderless_duration_seconds_bucket", ["le": "+Inf"]) == 0)
        #expect(metrics.value("ballot_cluster_members") == 3)
        #expect(metrics.value("ballot_build_info", [
            "version": "1.2.3", "revision": "0123456789abcdef0123456789abcdef01234567", "algorithm": "raft",
            "backend": "raft",
        ]) == 1)
        expectFamily("ballot_halted", label: "reason", values: Halt.Reason.allCases.map(\.rawValue), each: 0)
        #expect(metrics.value("ballot_state_write_failures_total") == 0)
        #expect(metrics.count("ballot_state_fsync_duration_seconds") == 0)
    }

    @Test func histogramBucketsSpanTheRequiredRanges() throws {
        let metrics = try Exposition(makeRecorder().render(now: SystemMonotonicClock.now, wallClockNow: 0))
        func bounds(_ name: String, _ labels: [String: String]) -> [Double] {
            metrics.samples(named: name + "_bucket")
                .filter { $0.labels.filter { $0.key != "le" } == labels }
                .compactMap { $0.labels["le"].flatMap(Double.init) }
                .filter(\.isFinite)
                .sorted()
        }
        for (name, labels) in [
            ("ballot_leaderless_duration_seconds", [:]), ("ballot_election_duration_seconds", ["outcome": "won"]),
        ] {
            let edges = bounds(name, labels)
            #expect(edges.first == 0.001 && edges.last == 30, "\(name) spans 1 ms … 30 s")
            for (low, high) in zip(edges, edges.dropFirst()) {
                #expect(high / low >= 1.2 && high / low <= 2.0 + 1e-9, "\(name): \(low) → \(high)")
            }
            #expect(edges.filter { $0 >= 0.1 && $0 <= 1 }.count >= 7, "dense around election timeouts")
        }
        let rtt = bounds("ballot_peer_round_trip_time_seconds", ["peer": "2"])
        #expect(rtt.first == 0.0001 && (rtt.last ?? 0) >= 2, "round trips from 100 µs to seconds")
    }

    @Test func promtoolFindsNothingWrongWithRealScrapes() throws {
        // A scrape of a node that lived through an election, a transfer and transport traffic.
        let cluster = RecordedCluster(seed: 71)
        let elected = cluster.elect()
        let leader = try #require(elected)
        cluster.run(ticks: 3)
        let target = try #require(cluster.ids.first { $0 != leader })
        try cluster.transferLeadership(from: leader, to: target)
        cluster.run(ticks: 20)
        let recorder = cluster.recorder(leader)
        for peer in cluster.ids where peer != leader {
            recorder.peerConnected(peer, true)
            recorder.heartbeatAcknowledged(by: peer, after: .microseconds(750))
            recorder.heartbeatFailed(to: peer)
            recorder.peerQueueDropped(peer)
        }
        recorder.messageSent(.heartbeat, bytes: 48)
        recorder.messageReceived(.heartbeatResponse, bytes: 40)
        recorder.frameRejected(reason: "wrong_cluster")
        let busy = recorder.render(now: cluster.now, wallClockNow: cluster.wallClock(at: cluster.now))
        let fresh = makeRecorder().render(now: SystemMonotonicClock.now, wallClockNow: 1_700_000_000)

        for (what, scrape) in [("busy", busy), ("first", fresh)] {
            let result = try #require(try Promtool.checkMetrics(scrape))
            #expect(result.status == 0, "promtool exit status for the \(what) scrape")
            #expect(result.output.isEmpty, "promtool on the \(what) scrape: \(result.output)")
        }
    }

    @Test func transportEventsLandInTheirSeries() throws {
        let recorder = makeRecorder()
        recorder.peerConnected(2, true)
        recorder.peerConnected(3, true)
        recorder.peerConnected(3, false)
        recorder.heartbeatAcknowledged(by: 3, after: .milliseconds(3))
        recorder.heartbeatFailed(to: 2)
        recorder.heartbeatFailed(to: 2)
        recorder.peerQueueDropped(3)
        for _ in 0..<3 { recorder.messageSent(.heartbeat, bytes: 40) }
        recorder.messageReceived(.voteResponse, bytes: 25)
        recorder.handshakeBytes(sent: 30, received: 31)
        recorder.frameRejected(reason: "oversized")
        recorder.frameRejected(reason: "something_new")
        // Not a member: ignored rather than given a series.
        recorder.peerConnected(9, true)
        recorder.heartbeatFailed(to: 9)
        recorder.heartbeatAcknowledged(by: 9, after: .milliseconds(1))

        let metrics = try Exposition(recorder.render(now: SystemMonotonicClock.now, wallClockNow: 0))
        #expect(metrics.value("ballot_peer_connected", ["peer": "2"]) == 1)
        #expect(metrics.value("ballot_peer_connected", ["peer": "3"]) == 0)
        let rtt = "ballot_peer_round_trip_time_seconds"
        #expect(metrics.bucket(rtt, le: "0.002", ["peer": "3"]) == 0)
        #expect(metrics.bucket(rtt, le: "0.005", ["peer": "3"]) == 1)
        #expect(metrics.bucket(rtt, le: "+Inf", ["peer": "3"]) == 1)
        #expect(metrics.sum(rtt, ["peer": "3"]) == 0.003)
        #expect(metrics.count(rtt, ["peer": "2"]) == 0)
        #expect(metrics.value("ballot_heartbeat_failures_total", ["peer": "2"]) == 2)
        #expect(metrics.value("ballot_heartbeat_failures_total", ["peer": "3"]) == 0)
        #expect(metrics.value("ballot_peer_queue_dropped_total", ["peer": "3"]) == 1)
        #expect(metrics.value("ballot_peer_messages_sent_total", ["type": "heartbeat"]) == 3)
        #expect(metrics.value("ballot_peer_messages_sent_total", ["type": "vote_request"]) == 0)
        #expect(metrics.value("ballot_peer_messages_received_total", ["type": "vote_response"]) == 1)
        #expect(metrics.value("ballot_peer_bytes_sent_total") == 150)
        #expect(metrics.value("ballot_peer_bytes_received_total") == 56)
        #expect(metrics.value("ballot_peer_frames_rejected_total", ["reason": "oversized"]) == 1)
        #expect(metrics.value("ballot_peer_frames_rejected_total", ["reason": "other"]) == 1)
        #expect(metrics.samples.allSatisfy { $0.labels["reason"] != "something_new" })
        #expect(metrics.samples.allSatisfy { $0.labels["peer"] != "9" })
    }

    @Test func leadershipHistoryKeepsTheLastTwentyChangesWithUnixTimes() throws {
        let view = LeadershipView(node: 1)
        let recorder = makeRecorder(view: view)
        let base = SystemMonotonicClock.now
        view.start(at: base, role: .follower, term: 0)
        for round in 1...25 {
            let lost = base + .seconds(round)
            let leader = LeaderInfo(id: round.isMultiple(of: 2) ? 2 : 3, term: Term(UInt64(round)))
            view.absorb([.leaderChanged(nil)], role: .follower, term: leader.term, lease: .none, lastContact: nil, at: lost)
            #expect(!view.current.hasLeader)
            let found = lost + .milliseconds(100)
            view.absorb([.leaderChanged(leader)], role: .follower, term: leader.term, lease: .none, lastContact: found,
                        at: found)
            #expect(view.current.hasLeader)
        }
        let now = base + .seconds(30)
        let history = view.current.history
        #expect(history.count == LeadershipView.historyLimit)
        // Round 1 found a leader from start-up; every later round lost one and found the next.
        let found = history.filter { $0.leader != nil }
        #expect(found.map(\.term.rawValue) == Array(16...25))
        #expect(history.filter { $0.leader == nil }.map(\.term.rawValue) == Array(15...24))
        #expect(found.allSatisfy { $0.leaderless == .milliseconds(100) })
        let last = try #require(history.last)
        #expect(last.leader == 3 && last.term == 25)
        #expect(last.at == base + .milliseconds(25_100))
        #expect(history.map(\.index) == Array(30...49))
        let change = NodeStatusReport.Change(last, now: now, wallClockNow: 1000)
        #expect(abs(change.unixTime - (1000 - 4.9)) < 1e-9)
        #expect(change.leaderlessMs == 100)

        let metrics = try Exposition(recorder.render(now: now, wallClockNow: 1000))
        #expect(metrics.value("ballot_leader_changes_total") == 25)
        #expect(metrics.count("ballot_leaderless_duration_seconds") == 25)
        // The first stretch runs from start-up (base) to base + 1.1 s; the other 24 last 100 ms each.
        #expect(abs((metrics.sum("ballot_leaderless_duration_seconds") ?? 0) - (1.1 + 24 * 0.1)) < 1e-9)
        #expect(metrics.value("ballot_leader_uptime_seconds") == 4.9)
        #expect(abs((metrics.value("ballot_leader_since_timestamp_seconds") ?? 0) - 995.1) < 1e-9)
    }

    /// A campaign whose start the recorder never saw (recorder created mid-campaign) is timed by the
    /// core's tick count instead.
    @Test func campaignWithoutASeenStartIsTimedByItsTicks() throws {
        let recorder = makeRecorder()
        recorder.executed([.campaignFinished(.timedOut, ticks: 15)], at: SystemMonotonicClock.now)
        let metrics = try Exposition(recorder.render(now: SystemMonotonicClock.now, wallClockNow: 0))
        #expect(metrics.count("ballot_election_duration_seconds", ["outcome": "timed_out"]) == 1)
        #expect(metrics.sum("ballot_election_duration_seconds", ["outcome": "timed_out"]) == 0.15)
    }

    @Test func processSeriesComeFromProc() throws {
        let recorder = makeRecorder()
        let wallNow = Date().timeIntervalSince1970
        let first = try Exposition(recorder.render(now: SystemMonotonicClock.now, wallClockNow: wallNow))
        let start = try #require(first.value("process_start_time_seconds"))
        #expect(start <= wallNow + 1 && start > wallNow - 86_400, "process started \(wallNow - start) s ago")
        let resident = try #require(first.value("process_resident_memory_bytes"))
        #expect(resident > 1_000_000)
        #expect((first.value("process_virtual_memory_bytes") ?? 0) >= resident)
        let open = try #require(first.value("process_open_fds"))
        #expect(open >= 3, "stdin, stdout and stderr at least")
        #expect((first.value("process_max_fds") ?? 0) >= open)
        let cpu = try #require(first.value("process_cpu_seconds_total"))
        #expect(cpu > 0)

        var spin: UInt64 = 1
        for i in 0..<5_000_000 { spin = spin &* 6364136223846793005 &+ UInt64(i) }
        #expect(spin != 0)
        let second = try Exposition(recorder.render(now: SystemMonotonicClock.now, wallClockNow: wallNow))
        #expect((second.value("process_cpu_seconds_total") ?? 0) >= cpu)
        #expect(second.value("process_start_time_seconds") == start)
    }

    @Test func benchmarkFixtureRendersAPopulatedScrape() throws {
        let start = SystemMonotonicClock.now
        let recorder = MetricsRecorder.renderBenchmarkFixture(members: 5, at: start)
        let metrics = try Exposition(recorder.render(now: start + .milliseconds(150), wallClockNow: 0))
        #expect(metrics.value("ballot_is_leader") == 1)
        #expect(metrics.samples(named: "ballot_peer_round_trip_time_seconds_count").map(\.value) == [50, 50, 50, 50])
        #expect(metrics.count("ballot_election_duration_seconds", ["outcome": "won"]) == 1)
    }
}

/// Runs `promtool check metrics` on an exposition, as CI and operators would.
enum Promtool {
    struct Result {
        var status: Int32
        var output: String
    }

    /// `nil` (after recording a failing issue) when promtool is not installed: this check must not
    /// silently pass on a machine without it.
    static func checkMetrics(_ exposition: [UInt8]) throws -> Result? {
        let searchPath = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        guard let executable = (searchPath + ["/usr/bin", "/usr/local/bin"])
            .map({ $0 + "/promtool" })
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) })
        else {
            Issue.record(
                """
                promtool was not found on PATH. Install the Debian/Ubuntu package `prometheus` \
                (apt-get install prometheus), which provides /usr/bin/promtool.
                """)
            return nil
        }
        let process = try ChildProcess(executable, arguments: ["check", "metrics"], input: .pipe, output: .pipe,
                                       error: .standardOutput)
        try process.standardInput?.write(exposition)
        process.standardInput?.close()
        let text = process.standardOutput?.readText() ?? ""
        let exit = process.waitForExitBlocking(timeout: .seconds(60))
        return Result(status: exit?.shellStatus ?? -1, output: text)
    }
}
