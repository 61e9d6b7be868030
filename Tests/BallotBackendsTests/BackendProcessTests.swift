import BallotClient
import BallotCore
import BallotHarness
import BallotSimulation
import Foundation
import Glibc
import NIOHTTP1
import Testing

/// `ballot serve --backend etcd|zookeeper` as real processes against real servers: the fault suite
/// (SIGKILL and SIGSTOP of the leading node, SIGKILL of a server of the ensemble) with the history
/// checker unchanged, every required metric series on a scrape and moving on failover, and the
/// flags a backend refuses.
@Suite("Backends as real processes", .serialized)
struct BackendProcessTests {
    func faultRun(_ backend: String, servers: Int, kinds: [FaultKind], faults: Int, seed: UInt64) async throws -> FaultSuite.Report {
        var options = FaultSuite.Options(binary: try ballotBinary(), workDirectory: temporaryDirectory("faults-\(backend)"))
        options.backend = backend
        options.servers = servers
        // A ZooKeeper ensemble's followers may lag 2.1 s (syncLimit 10 × tickTime 200 ms + half a tick):
        // the session must outlast that plus a renewal interval.
        let validity: Duration = backend == "zookeeper" && servers > 1 ? .seconds(4) : .seconds(2)
        options.validity = validity
        options.electionTimeout = validity
        options.bounds.recovery = 10_000_000_000
        options.faults = faults
        options.nodeCounts = [3]
        options.kinds = kinds
        options.namespaces = false
        options.seed = seed
        let report = try await FaultSuite.run(options)
        print(report.summary)
        if report.violations.isEmpty { try? FileManager.default.removeItem(atPath: options.workDirectory) }
        return report
    }

    func expectClean(_ report: FaultSuite.Report, faults: Int) {
        #expect(report.totalFaults == faults)
        #expect(report.violations.isEmpty, "\(report.violations.map(\.description).joined(separator: "\n"))")
        #expect(report.failures.isEmpty, "\(report.failures.joined(separator: "\n"))")
        let tally = report.tally
        #expect(tally.electionForcingFaults > 0, "some fault stopped the leading node")
        #expect(tally.faultsWithoutElection.isEmpty, "a stopped leader was always replaced")
    }

    @Test("One server: SIGKILL and SIGSTOP of nodes, the history checker finds nothing", arguments: ["etcd", "zookeeper"])
    func processFaults(backend: String) async throws {
        let report = try await faultRun(backend, servers: 1, kinds: [.crash, .pause], faults: 6, seed: 5)
        expectClean(report, faults: 6)
    }

    @Test("Three-server ensembles: a server SIGKILLed and restarted, nodes killed and paused", arguments: ["etcd", "zookeeper"])
    func ensembleFaults(backend: String) async throws {
        let report = try await faultRun(backend, servers: 3, kinds: [.crash, .pause, .serverKill], faults: 6, seed: 8)
        expectClean(report, faults: 6)
        #expect(report.faultsByKind[.serverKill, default: 0] > 0)
    }

    /// The series of METRICS.md a backend node exports (per-peer series exist only with peers, as on
    /// a one-node Raft cluster), read from a real scrape.
    static let requiredSeries = [
        "ballot_is_leader", "ballot_has_leader", "ballot_term", "ballot_role", "ballot_leader_changes_total",
        "ballot_elections_started_total", "ballot_election_duration_seconds_count", "ballot_leaderless_duration_seconds_count",
        "ballot_leader_uptime_seconds", "ballot_leader_since_timestamp_seconds", "ballot_leader_last_contact_seconds",
        "ballot_step_downs_total", "ballot_heartbeats_sent_total", "ballot_peer_messages_sent_total",
        "ballot_peer_messages_received_total", "ballot_peer_bytes_sent_total", "ballot_peer_bytes_received_total",
        "ballot_peer_frames_rejected_total", "ballot_cluster_members", "ballot_build_info", "process_cpu_seconds_total",
        "process_resident_memory_bytes", "process_start_time_seconds", "process_open_fds",
        "ballot_coordination_connected", "ballot_coordination_round_trip_seconds_count", "ballot_coordination_failures_total",
    ]

    @Test("Every required series is on the scrape, and a killed leader moves them on every survivor", arguments: ["etcd", "zookeeper"])
    func metricsMove(backend: String) async throws {
        let service = try await CoordinationService.start(backend, servers: 1)
        defer { Task { await service.stop() } }
        var settings = LocalCluster.Settings()
        settings.backend = backend
        settings.backendArguments = service.nodeArguments + ["--election", "metrics"]
            + (backend == "etcd" ? ["--lease-ttl", "2s"] : ["--session-timeout", "2s"])
        settings.httpBasePort = LoopbackPorts.consecutiveFree(3, from: Int.random(in: 20_000...50_000))
        let local = LocalCluster(settings: settings, binary: try ballotBinary(), dataDirectory: temporaryDirectory("metrics-\(backend)"))
        try await local.whileRunning {
            let first = try #require(await local.waitForLeader(timeout: .seconds(30)))
            #expect(await eventually {
                var agreed = true
                for node in local.nodes where await local.leaderView(of: node.id)?.leader != first.self_ { agreed = false }
                return agreed
            }, "every node names the leader")
            for node in local.nodes {
                let text = try await scrape(node)
                for name in Self.requiredSeries {
                    #expect(text.contains("\n\(name)") || text.hasPrefix(name), "node \(node.id) has no \(name)")
                }
                #expect(text.contains("backend=\"\(backend)\""), "build_info names the backend")
                #expect(value(text, "ballot_coordination_connected") == 1)
                let (status, output) = try promtool(text)
                #expect(status == 0 && output.isEmpty, "promtool: \(output)")
            }
            let old = try #require(NodeID(first.self_))
            let survivors = local.nodes.filter { $0.id != old }
            var before: [NodeID: String] = [:]
            for node in survivors { before[node.id] = try await scrape(node) }
            local.node(old).signal(SIGKILL)
            let next = try #require(await local.waitForLeader(excluding: old, newerThan: first.term, timeout: .seconds(30)))
            try await Task.sleep(for: .milliseconds(300))
            for node in survivors {
                let after = try await scrape(node)
                let earlier = before[node.id]!
                #expect(value(after, "ballot_leader_changes_total")! > value(earlier, "ballot_leader_changes_total")!)
                #expect(value(after, "ballot_term")! == Double(next.term))
                #expect(value(after, "ballot_leaderless_duration_seconds_count")! > value(earlier, "ballot_leaderless_duration_seconds_count")!)
            }
            let winner = try #require(survivors.first { $0.id.rawValue == next.self_ })
            let won = try await scrape(winner)
            #expect(value(won, "ballot_is_leader") == 1)
            #expect(value(won, "ballot_elections_started_total{phase=\"vote\"}")! >= 2, "its candidacy, and the take-over")
            #expect(value(won, "ballot_election_duration_seconds_count{outcome=\"won\"}")! >= 1)
            #expect(value(won, "ballot_coordination_round_trip_seconds_count")! > 0)
        }
    }

    /// Issue 15's routes read the leadership view, whoever produces it: on backend nodes `/events`
    /// (curl as the client), the blocking `/leader?index=` query and `/primary` work unchanged;
    /// `POST /resign` and `PUT /candidacy` belong to the Raft election and answer 409 saying what
    /// to do instead, changing nothing.
    @Test("Issue 15's routes on backend nodes: events, blocking query and primary unchanged; resign and candidacy refused",
          arguments: ["etcd", "zookeeper"])
    func applicationRoutes(backend: String) async throws {
        let service = try await CoordinationService.start(backend, servers: 1)
        defer { Task { await service.stop() } }
        var settings = LocalCluster.Settings()
        settings.nodes = 2
        settings.backend = backend
        settings.backendArguments = service.nodeArguments + ["--election", "apps"]
            + (backend == "etcd" ? ["--lease-ttl", "2s"] : ["--session-timeout", "2s"])
        settings.httpBasePort = LoopbackPorts.consecutiveFree(2, from: Int.random(in: 20_000...50_000))
        let local = LocalCluster(settings: settings, binary: try ballotBinary(), dataDirectory: temporaryDirectory("apps-\(backend)"))
        try await local.whileRunning {
            let first = try #require(await local.waitForLeader(timeout: .seconds(30)))
            let leader = try #require(NodeID(first.self_))
            let follower = try #require(local.nodes.first { $0.id != leader })
            #expect(await eventually { await local.leaderView(of: follower.id)?.leader == first.self_ })
            func get(_ node: NodeProcess, _ path: String, timeout: Duration = .seconds(2)) async throws -> HTTPClient.Response {
                try await HTTPClient.request(.GET, host: "127.0.0.1", port: node.httpPort, path: path, timeout: timeout)
            }
            #expect(try await get(local.node(leader), "/primary").status == 200)
            #expect(try await get(follower, "/primary").status == 503)
            for (method, path) in [(HTTPMethod.POST, "/resign"), (.PUT, "/candidacy")] {
                let answer = try await HTTPClient.request(
                    method, HTTPTarget(address: try SocketAddressSpec(validatingHost: "127.0.0.1", port: local.node(leader).httpPort)),
                    path: path, body: Array("{\"eligible\": false}".utf8))
                #expect(answer.status == 409, "\(method) \(path): \(answer.status) \(answer.text)")
                #expect(answer.text.contains("\"error\"") && answer.text.contains(backend) && answer.text.contains("SIGTERM"),
                        "\(answer.text)")
            }
            #expect(try await get(local.node(leader), "/primary").status == 200, "the refusals changed nothing")

            // A follower's event stream and blocking query both see the leader's loss and the next leader.
            let index = try #require(await local.leaderView(of: follower.id)).index
            let curl = try ChildProcess("/usr/bin/curl", arguments: ["-sN", "--max-time", "12", "http://127.0.0.1:\(follower.httpPort)/events"],
                                        output: .pipe, error: .null)
            let waiting = Task { try await get(follower, "/leader?index=\(index)&wait=20s", timeout: .seconds(25)) }
            try await Task.sleep(for: .milliseconds(500))
            local.node(leader).signal(SIGKILL)
            let woken = try await waiting.value
            let body = try #require(try JSONSerialization.jsonObject(with: Data(woken.text.utf8)) as? [String: Any])
            #expect(((body["index"] as? NSNumber)?.uint64Value ?? 0) > index, "\(woken.text)")
            _ = try #require(await local.waitForLeader(excluding: leader, newerThan: first.term, timeout: .seconds(30)))
            let text = await curl.standardOutput?.readTextInBackground() ?? ""
            await curl.waitForExit(timeout: .seconds(30))
            let names = text.split(separator: "\n").filter { $0.hasPrefix("event: ") }.map { $0.dropFirst(7) }
            #expect(names.first == "state", "\(text)")
            #expect(names.contains("lost") && names.contains("elected"), "\(text)")
            #expect(text.contains("\"previous\":\(leader)"), "the loss names the killed leader: \(text)")
        }
    }

    @Test("A backend node refuses peer flags and other backends' settings with a message saying what to drop")
    func refusedFlags() async throws {
        let cases: [([String], String)] = [
            (["--backend", "etcd", "--etcd-endpoints", "http://127.0.0.1:2379", "--listen", "127.0.0.1:7001"],
             "--listen is not used with --backend etcd"),
            (["--backend", "zookeeper", "--zookeeper", "127.0.0.1:2181", "--peer", "2=127.0.0.1:7002"],
             "--peer is not used with --backend zookeeper"),
            (["--backend", "etcd", "--etcd-endpoints", "http://127.0.0.1:2379", "--session-timeout", "4s"],
             "--session-timeout applies only to --backend zookeeper"),
            (["--backend", "etcd"], "no etcd endpoints given"),
            (["--backend", "consul"], "--backend: unknown value \"consul\"; use raft, etcd or zookeeper"),
            (["--listen", "127.0.0.1:7001", "--lease-ttl", "5s"], "--lease-ttl applies only to --backend etcd"),
            (["--backend", "etcd", "--etcd-endpoints", "http://127.0.0.1:2379", "--lease-ttl", "1500ms"], "not a whole number of seconds"),
            (["--backend", "zookeeper", "--zookeeper", "127.0.0.1:2181", "--zookeeper-follower-lag", "3s"], "leaves no room to claim"),
            (["--backend", "etcd", "--etcd-endpoints", "http://127.0.0.1:2379", "--etcd-credentials-file", "/nonexistent/credentials"],
             "etcd credentials file /nonexistent/credentials"),
        ]
        for (arguments, message) in cases {
            let directory = temporaryDirectory("refused")
            let result = await Subprocess.run([try ballotBinary(), "serve", "--id", "1", "--data-dir", directory] + arguments,
                                              timeout: .seconds(20))
            #expect(result.status != 0, "\(arguments) was accepted")
            #expect(result.error.contains(message), "\(arguments): \(result.error)")
            try? FileManager.default.removeItem(atPath: directory)
        }
    }
}

func scrape(_ node: NodeProcess) async throws -> String {
    let response = try await HTTPClient.request(.GET, host: "127.0.0.1", port: node.httpPort, path: "/metrics")
    guard response.status == 200 else { throw TestFailure("node \(node.id) answered /metrics with \(response.status)") }
    return "\n" + response.text
}

/// The value of the sample `name` (with its labels, if given) in an exposition.
func value(_ text: String, _ name: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(name + " ") || (line.hasPrefix(name + "{") && !name.contains("{")) {
        if let number = line.split(separator: " ").last.flatMap({ Double($0) }) { return number }
    }
    return nil
}

func promtool(_ text: String) throws -> (Int32, String) {
    let process = try ChildProcess(Subprocess.locate("promtool") ?? "/usr/bin/promtool", arguments: ["check", "metrics"],
                                   input: .pipe, output: .pipe, error: .standardOutput)
    try process.standardInput?.write(text.dropFirst().utf8)
    process.standardInput?.close()
    let exit = process.waitForExitBlocking(timeout: .seconds(60))
    return (exit?.shellStatus ?? -1, process.standardOutput?.readText() ?? "")
}

func ballotBinary() throws -> String {
    if let path = ProcessInfo.processInfo.environment["BALLOT_BINARY"], !path.isEmpty { return path }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let path = root.appendingPathComponent(".build/debug/ballot").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw TestFailure("no ballot binary at \(path); run `swift build` first or set BALLOT_BINARY")
    }
    return path
}

func temporaryDirectory(_ name: String) -> String {
    let path = NSTemporaryDirectory() + "ballot-backend-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
