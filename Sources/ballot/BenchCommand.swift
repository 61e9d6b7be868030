import BallotSimulation
import BallotRuntime
import ArgumentParser
import BallotCore
import BallotHarness
import BallotClient
import BallotServer
import Foundation
import Glibc

/// `ballot bench`: measurements that print figures (never pass/fail on timing).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure failover, transfers, cold start and the idle cost of a real local cluster (the codec: swift run -c release ballot-wire-bench).",
        subcommands: [FailoverBench.self, ResourcesBench.self, HTTPBench.self, EventsBench.self, LockBench.self]
    )
}

/// Options shared by the cluster benchmarks.
struct ClusterBenchOptions: ParsableArguments {
    @Option(help: "Number of nodes.")
    var nodes: Int = 3

    @Option(help: "Election timeout T of every node.")
    var electionTimeout: String = "1s"

    @Option(help: "Heartbeat interval of every node.")
    var heartbeatInterval: String = "100ms"

    @Option(help: "First peer port (HTTP ports follow after the peer ports).")
    var basePort: Int = 27001

    @Option(help: "Seed for the random fault offsets.")
    var seed: UInt64 = 1

    @Option(help: "Run each node with this executable, e.g. .build/deploy/release/ballotd, instead of `ballot serve`.")
    var nodeBinary: String?

    @Option(help: "How peers authenticate, comma-separated to measure several side by side in one run: insecure, tls, secret, tls+secret (e.g. insecure,tls).")
    var peerSecurity: String = "insecure"

    /// The modes to measure, in the order given.
    var securities: [PeerSecurity] {
        get throws {
            try peerSecurity.split(separator: ",").map { name in
                guard let mode = PeerSecurity(rawValue: String(name)) else {
                    throw ValidationError("--peer-security: unknown mode '\(name)'; use insecure, tls, secret or tls+secret")
                }
                return mode
            }
        }
    }

    @Option(help: "Election algorithm of Ballot's own peers: raft, bully or ring (with --backend raft).")
    var algorithm: String = "raft"

    @Option(name: .customLong("node-arg"), parsing: .unconditionalSingleValue, help: "An extra flag for every node, e.g. --node-arg=--http-tls-cert=cert.pem (repeatable).")
    var nodeArguments: [String] = []

    @Option(help: "PEM CA of the nodes' HTTPS certificate, when --node-arg gives them --http-tls-cert/--http-tls-key.")
    var httpCacert: String?

    /// What runs the nodes, for the report.
    var nodeDescription: String { nodeBinary ?? "\(ballotExecutable()) serve" }

    func makeCluster(_ name: String, printEvents: Bool = true, backend: String = "raft", backendArguments: [String] = [],
                     security: PeerSecurity = .insecure,
                     onLine: @escaping @Sendable (NodeID, String) -> Void = { _, _ in }) -> LocalCluster {
        var settings = LocalCluster.Settings()
        settings.backend = backend
        settings.backendArguments = backendArguments
        settings.algorithm = algorithm
        settings.peerSecurity = backend == "raft" ? security : .insecure
        settings.printEvents = printEvents
        settings.nodeBinary = nodeBinary
        settings.nodes = nodes
        settings.electionTimeout = electionTimeout
        settings.heartbeatInterval = heartbeatInterval
        settings.peerBasePort = LoopbackPorts.consecutiveFree(nodes, from: basePort)
        settings.httpBasePort = LoopbackPorts.consecutiveFree(nodes, from: settings.peerBasePort + nodes)
        settings.cluster = "bench"
        settings.extraArguments = nodeArguments
        settings.httpTLS = httpCacert.flatMap { try? HTTPClientTLS(caFile: $0) }
        let directory = NSTemporaryDirectory() + "ballot-bench-\(name)-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        return LocalCluster(settings: settings, binary: ballotExecutable(), dataDirectory: directory, onLine: onLine)
    }

    var timeout: Duration { (try? DurationParser.parse(electionTimeout)) ?? .seconds(1) }
    var heartbeat: Duration { (try? DurationParser.parse(heartbeatInterval)) ?? .milliseconds(100) }
}

struct FailoverBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Fail the leader again and again and time the failover; also transfers and cold start.",
        discussion: """
            Leadership is observed from the nodes' own event lines (CLOCK_MONOTONIC stamps taken in the node \
            the moment it learns of a leader), not by polling them, so the measurement does not disturb the \
            election; resolution is the stamp's (µs) plus line delivery, which is not on the timed path.
            """
    )

    @OptionGroup var cluster: ClusterBenchOptions

    @Option(help: "crash (SIGKILL + restart; `kill` is accepted too) or pause (SIGSTOP for several election timeouts, then SIGCONT).")
    var fault: String = "crash"

    @Option(help: "Number of failovers to measure.")
    var trials: Int = 20

    @Option(help: "Also measure this many graceful transfers (POST /transfer and SIGTERM of the leader) and cold starts.")
    var extras: Int = 10

    @Option(help: "Write the raw trials as JSON to this file.")
    var json: String?

    @Option(help: "What elects the leader: raft (Ballot's own peers), etcd or zookeeper (a real service is started for the run).")
    var backend: String = "raft"

    @Option(help: "etcd lease TTL of every node (--backend etcd).")
    var leaseTtl: String = "5s"

    @Option(help: "ZooKeeper session timeout of every node (--backend zookeeper).")
    var sessionTimeout: String = "4s"

    @Option(help: "Servers of the etcd cluster or ZooKeeper ensemble started for the run (1 or 3).")
    var servers: Int = 1

    @Option(help: "Seconds of idle cluster measured before the trials (traffic and CPU); 0 to skip.")
    var idleSeconds: Int = 10

    func validate() throws {
        guard ["raft", "etcd", "zookeeper"].contains(backend) else { throw ValidationError("--backend must be raft, etcd or zookeeper") }
        guard ["raft", "bully", "ring"].contains(cluster.algorithm) else { throw ValidationError("--algorithm must be raft, bully or ring") }
        guard backend == "raft" || cluster.algorithm == "raft" else { throw ValidationError("--algorithm applies to --backend raft only") }
        guard (1...7).contains(servers) else { throw ValidationError("--servers must be between 1 and 7") }
        guard let kind = FaultKind(named: fault), kind == .crash || kind == .pause else {
            throw ValidationError("--fault must be crash (or kill) or pause")
        }
        guard (1...10_000).contains(trials) else { throw ValidationError("--trials must be between 1 and 10000") }
        guard (2...15).contains(cluster.nodes) else { throw ValidationError("--nodes must be between 2 and 15") }
    }

    /// The validity that bounds failover: the election timeout, the lease TTL or the session timeout.
    var timeout: Duration {
        switch backend {
        case "etcd": (try? DurationParser.parse(leaseTtl)) ?? .seconds(5)
        case "zookeeper": (try? DurationParser.parse(sessionTimeout)) ?? .seconds(4)
        default: cluster.timeout
        }
    }

    func run() async throws {
        guard backend == "raft" else {
            let service = try await CoordinationService.start(backend, servers: servers)
            do {
                _ = try await measure(service: service, security: .insecure)
            } catch {
                await service.stop()
                throw error
            }
            await service.stop()
            return
        }
        var medians: [(PeerSecurity, Summary, Summary)] = []
        for security in try cluster.securities {
            let (first, all) = try await measure(service: nil, security: security)
            medians.append((security, first, all))
        }
        if medians.count > 1 {
            printLine("")
            printLine("side by side (\(cluster.nodes) nodes, fault \(fault), \(trials) trials each):")
            printLine("peers          survivor leads: median    p99   all know: median    p99   (ms)")
            for (security, first, all) in medians {
                printLine(security.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0)
                          + String(format: " %22.1f %6.1f %18.1f %6.1f", first.median, first.quantile(0.99), all.median, all.quantile(0.99)))
            }
        }
    }

    /// One whole measurement, with Raft peers authenticating by `security` (a backend's nodes have
    /// no peers); returns the failover summaries.
    func measure(service: CoordinationService?, security: PeerSecurity) async throws -> (Summary, Summary) {
        let kind = FaultKind(named: fault)!
        var backendArguments: [String] = []
        if let service {
            backendArguments = service.nodeArguments + ["--election", "bench"]
                + (backend == "etcd" ? ["--lease-ttl", leaseTtl] : ["--session-timeout", sessionTimeout])
        }
        let local = cluster.makeCluster("failover-\(security.rawValue)", backend: backend, backendArguments: backendArguments,
                                        security: security)
        let timeout = self.timeout
        let (rtt, results, failures, transfers, sigterms) = try await local.whileRunning {
            let bench = FailoverBenchmark(cluster: local, fault: kind, heartbeat: cluster.heartbeat,
                                          electionTimeout: timeout, seed: cluster.seed)
            bench.trafficProbe = Self.trafficProbe(local, service: service)
            // The round trip the model uses is measured before any fault (a paused node's late
            // acknowledgements would inflate it afterwards).
            _ = try await bench.waitForStableLeader(timeout: timeout * 30)
            try await Task.sleep(for: .seconds(1))
            let rtt = await meanRoundTripMs(local)
            let setting = switch backend {
            case "etcd": "etcd (\(servers) member\(servers == 1 ? "" : "s")), lease TTL \(leaseTtl), keep-alive every TTL/3"
            case "zookeeper": "ZooKeeper (\(servers) server\(servers == 1 ? "" : "s"), tickTime 200 ms), session timeout \(sessionTimeout)"
            default: "\(cluster.algorithm), heartbeat \(cluster.heartbeatInterval), election timeout \(cluster.electionTimeout), peers \(security)"
            }
            printLine("ballot failover: \(cluster.nodes) nodes, backend \(backend): \(setting), fault \(kind.rawValue), \(trials) trials; nodes: \(cluster.nodeDescription)")
            if idleSeconds > 0 {
                printLine(await Self.idleCost(local, service: service, seconds: idleSeconds, probe: bench.trafficProbe))
            }
            var results: [FailoverBenchmark.Trial] = []
            var failures = 0
            for index in 1...trials {
                do {
                    let trial = try await bench.runTrial()
                    results.append(trial)
                    printLine(String(format: "  trial %3d: leader %d -> %d, first leader %.1f ms, all know %.1f ms, terms %d",
                                     index, Int(trial.oldLeader), Int(trial.newLeader), trial.firstLeaderMs, trial.allKnowMs, Int(trial.terms)))
                } catch {
                    failures += 1
                    printLine("  trial \(index): \(error)")
                }
            }
            var transfers: [Double] = []
            var sigterms: [Double] = []
            if extras > 0 {
                // A backend cannot hand leadership to a chosen node; SIGTERM resigns to the next in line.
                if backend == "raft", cluster.algorithm == "raft" {
                    for _ in 0..<extras { if let t = try? await measureTransfer(local, bench: bench) { transfers.append(t) } }
                }
                for _ in 0..<extras { if let t = try? await measureSigterm(local, bench: bench) { sigterms.append(t) } }
            }
            return (rtt, results, failures, transfers, sigterms)
        }
        var coldStarts: [Double] = []
        for index in 0..<extras {
            if let t = try? await measureColdStart(index, backendArguments: backendArguments, security: security) { coldStarts.append(t) }
        }

        let first = Summary(results.map(\.firstLeaderMs))
        let all = Summary(results.map(\.allKnowMs))
        printLine("")
        printLine("                       n    min   median    p90    p99    max   (ms)")
        printLine(row("survivor leads", first))
        printLine(row("all survivors know", all))
        if backend == "raft", cluster.algorithm == "raft" {
            let secondRounds = results.filter { $0.terms > 1 }.count
            printLine("terms per failover:  " + Dictionary(grouping: results, by: \.terms).sorted { $0.key < $1.key }
                .map { "\($0.key) term\($0.key == 1 ? "" : "s"): \($0.value.count)" }.joined(separator: ", ")
                + "  (second rounds: \(secondRounds) of \(results.count))")
        }
        if failures > 0 { printLine("failed trials: \(failures)") }
        let tick = NodeConfiguration.tickInterval(heartbeatInterval: cluster.heartbeat).milliseconds
        let traffic = results.compactMap { trial in trial.traffic.map { ($0, trial.trafficSeconds ?? 0) } }
        if !traffic.isEmpty {
            printLine(String(format: "traffic per failover (fault to all know, idle rate not subtracted): median %.0f messages, %.0f bytes over a median %.2f s",
                             Summary(traffic.map(\.0.messages)).median, Summary(traffic.map(\.0.bytes)).median,
                             Summary(traffic.map(\.1)).median))
        }
        if backend != "raft" {
            let validity = timeout.milliseconds
            let what = backend == "etcd" ? "lease" : "session"
            let check = backend == "etcd" ? "etcd's lessor revokes expired leases every 500 ms" : "ZooKeeper expires sessions on tick boundaries (200 ms)"
            printLine(String(format: "bound (\(kind.rawValue)): the old %@ cannot end before %.0f ms after its last renewal, which came 0–%.0f ms before the fault, so failover ≥ %.0f ms; %@; target: median ≤ %.0f ms",
                             what, validity, validity / 3, validity - validity / 3, check, validity + 500))
        } else if kind == .pause, cluster.algorithm == "raft" {
            let model = FailoverModel(
                electionTimeoutMs: cluster.timeout.milliseconds, heartbeatMs: cluster.heartbeat.milliseconds,
                tickMs: tick, survivors: cluster.nodes - 1, roundTripMs: rtt)
            let (median, p99) = (model.quantile(0.5), model.quantile(0.99))
            printLine(String(format: "analytic model (silent failure; tick %.0f ms, mean RTT %.2f ms): mean %.1f, median %.1f, p90 %.1f, p99 %.1f ms",
                             tick, rtt, model.mean, median, model.quantile(0.9), p99))
            printLine(String(format: "measured / model: mean %.3f, median %.3f, p99 %.3f  (targets: median within 10%%, p99 within 25%%)",
                             first.mean / model.mean, first.median / median, first.quantile(0.99) / p99))
        } else if cluster.algorithm == "raft" {
            printLine(String(format: "analytic expectation (closed connection): detection ≈ 0, stagger ≈ %.1f ms, + 2 RTT (%.2f ms) + fsyncs", tick / 4, 2 * rtt))
        }
        if !transfers.isEmpty { printLine(row("transfer (POST)", Summary(transfers))) }
        if !sigterms.isEmpty { printLine(row("SIGTERM handover", Summary(sigterms))) }
        if !coldStarts.isEmpty { printLine(row("cold start", Summary(coldStarts))) }
        if let json {
            let rows = results.map { ["old": Double($0.oldLeader), "new": Double($0.newLeader), "first_ms": $0.firstLeaderMs, "all_ms": $0.allKnowMs, "terms": Double($0.terms)] }
            let data = try JSONSerialization.data(withJSONObject: ["fault": kind.rawValue, "nodes": cluster.nodes, "peers": security.rawValue, "trials": rows, "transfer_ms": transfers, "sigterm_ms": sigterms, "cold_start_ms": coldStarts], options: [.prettyPrinted, .sortedKeys])
            let path = (try cluster.securities).count > 1 ? json.replacingOccurrences(of: ".json", with: "-\(security.rawValue).json") : json
            try data.write(to: URL(fileURLWithPath: path))
        }
        return (first, all)
    }

    func row(_ label: String, _ s: Summary) -> String {
        label.padding(toLength: 20, withPad: " ", startingAt: 0)
            + String(format: " %4d %7.1f %7.1f %7.1f %7.1f %7.1f", s.count, s.min, s.median, s.quantile(0.9), s.quantile(0.99), s.max)
    }

    /// Mean heartbeat round trip seen by the current leader, from its metrics.
    func meanRoundTripMs(_ local: LocalCluster) async -> Double {
        guard let leader = await local.currentLeader(), let id = NodeID(leader.self_),
              let scrape = try? await HTTPClient.request(.GET, host: "127.0.0.1", port: local.node(id).httpPort, path: "/metrics")
        else { return 0 }
        var sum = 0.0
        var count = 0.0
        for line in scrape.text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let value = Double(parts[1]) else { continue }
            if parts[0].hasPrefix("ballot_peer_round_trip_time_seconds_sum") { sum += value }
            if parts[0].hasPrefix("ballot_peer_round_trip_time_seconds_count") { count += value }
        }
        return count > 0 ? sum / count * 1000 : 0
    }

    /// Downtime of `POST /transfer`: from the request until the target announces it leads.
    func measureTransfer(_ local: LocalCluster, bench: FailoverBenchmark) async throws -> Double {
        let stable = try await bench.waitForStableLeader(timeout: timeout * 30)
        try await Task.sleep(for: cluster.heartbeat * 3)
        let target = local.nodes.first { $0.id.rawValue != stable.self_ }!.id
        let start = SystemMonotonicClock.now.nanoseconds
        _ = try await HTTPClient.request(.POST, host: "127.0.0.1", port: local.node(NodeID(stable.self_)!).httpPort,
                                         path: "/transfer?to=\(target)", timeout: .seconds(10))
        return try await leaderAnnounced(local, node: target.rawValue, after: start)
    }

    /// Downtime of a SIGTERM to the leader: from the signal until its successor announces it leads.
    func measureSigterm(_ local: LocalCluster, bench: FailoverBenchmark) async throws -> Double {
        let stable = try await bench.waitForStableLeader(timeout: timeout * 30)
        try await Task.sleep(for: cluster.heartbeat * 3)
        let node = local.node(NodeID(stable.self_)!)
        let start = SystemMonotonicClock.now.nanoseconds
        node.signal(SIGTERM)
        let measured: Result<Double, any Error>
        do {
            measured = .success(try await leaderAnnounced(local, node: nil, after: start, excluding: stable.self_))
        } catch {
            measured = .failure(error)
        }
        // Restarted here, not in a detached task: a restart left running after the cluster stops
        // would leave its process behind.
        await node.waitForExit(timeout: .seconds(10))
        try node.start()
        return try measured.get()
    }

    func leaderAnnounced(_ local: LocalCluster, node: UInt64?, after start: UInt64, excluding: UInt64? = nil) async throws -> Double {
        let deadline = ContinuousClock.now + timeout * 20
        while ContinuousClock.now < deadline {
            if let event = local.events.first(where: {
                $0.monotonicNanoseconds >= start && $0.kind == .elected && $0.isSelf
                    && (node == nil || $0.node == node) && $0.node != excluding
            }) {
                return Double(event.monotonicNanoseconds - start) / 1e6
            }
            try await Task.sleep(for: .milliseconds(1))
        }
        throw BenchmarkError("no leader announced")
    }

    /// From spawning every process to the first leader announcement.
    func measureColdStart(_ index: Int, backendArguments: [String], security: PeerSecurity) async throws -> Double {
        let local = cluster.makeCluster("cold\(index)-\(security.rawValue)", backend: backend,
                                        backendArguments: backendArguments.map { $0 == "bench" ? "cold\(index)" : $0 },
                                        security: security)
        let start = SystemMonotonicClock.now.nanoseconds
        return try await local.whileRunning { try await leaderAnnounced(local, node: nil, after: start) }
    }
}

extension FailoverBench {
    /// What carries the election, as cumulative counters: the coordination service's client traffic
    /// for a backend, the nodes' own peer-protocol counters for Raft.
    static func trafficProbe(_ local: LocalCluster, service: CoordinationService?) -> @Sendable () async -> FailoverBenchmark.Traffic {
        if let service {
            return {
                let counted = await service.traffic()
                return FailoverBenchmark.Traffic(bySource: [0: .init(messages: counted.messages,
                                                                      bytes: counted.bytesReceived + counted.bytesSent)])
            }
        }
        return {
            var bySource: [UInt64: FailoverBenchmark.Traffic.Counters] = [:]
            for node in local.nodes where node.isRunning {
                guard let scrape = try? await HTTPClient.request(.GET, host: "127.0.0.1", port: node.httpPort, path: "/metrics")
                else { continue }
                var counters = FailoverBenchmark.Traffic.Counters(messages: 0, bytes: 0)
                for line in scrape.text.split(separator: "\n") where !line.hasPrefix("#") {
                    let parts = line.split(separator: " ")
                    guard parts.count == 2, let value = Double(parts[1]) else { continue }
                    if parts[0].hasPrefix("ballot_peer_messages_sent_total") { counters.messages += value }
                    if parts[0] == "ballot_peer_bytes_sent_total" { counters.bytes += value }
                }
                bySource[node.id.rawValue] = counters
            }
            return FailoverBenchmark.Traffic(bySource: bySource)
        }
    }

    /// The idle cost over `seconds`: traffic per second, and CPU per second of the Ballot nodes and of
    /// the coordination servers (from /proc), with a stable leader and nothing failing.
    static func idleCost(_ local: LocalCluster, service: CoordinationService?, seconds: Int,
                         probe: (@Sendable () async -> FailoverBenchmark.Traffic)?) async -> String {
        let nodePIDs = local.nodes.compactMap(\.pid)
        let serverPIDs = service?.serverPIDs ?? []
        let trafficBefore = await probe?()
        let nodesBefore = nodePIDs.map(ProcessCPU.seconds).reduce(0, +)
        let serversBefore = serverPIDs.map(ProcessCPU.seconds).reduce(0, +)
        let started = ContinuousClock.now
        try? await Task.sleep(for: .seconds(seconds))
        let elapsed = (ContinuousClock.now - started).milliseconds / 1000
        let trafficAfter = await probe?()
        let nodes = (nodePIDs.map(ProcessCPU.seconds).reduce(0, +) - nodesBefore) / elapsed * 1000
        let servers = (serverPIDs.map(ProcessCPU.seconds).reduce(0, +) - serversBefore) / elapsed * 1000
        var line = String(format: "idle over %.0f s: Ballot nodes %.2f ms CPU/s in all", elapsed, nodes)
        if service != nil { line += String(format: ", coordination servers %.2f ms CPU/s in all", servers) }
        if let trafficBefore, let trafficAfter {
            let delta = trafficAfter - trafficBefore
            line += String(format: "; %.1f messages/s, %.0f bytes/s", delta.messages / elapsed, delta.bytes / elapsed)
        }
        return line
    }
}

extension CoordinationService {
    /// The server processes (etcd, or ZooKeeper's JVMs), for their CPU time.
    var serverPIDs: [Int32] {
        switch self {
        case .etcd(let cluster): cluster.members.compactMap(\.pid)
        case .zookeeper(let ensemble): ensemble.servers.compactMap(\.pid)
        }
    }
}

/// A process's CPU time (user + system) from /proc/PID/stat.
enum ProcessCPU {
    static func seconds(_ pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")")
        else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command: state is field 3; utime and stime are fields 14 and 15 (1-based).
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
