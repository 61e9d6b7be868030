import BallotSimulation
import ArgumentParser
import BallotCore
import BallotHarness
import BallotClient
import BallotServer
import Foundation
import Glibc

/// `ballot bench resources`: what an idle cluster costs.
struct ResourcesBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resources",
        abstract: "Run an idle cluster for a while: RSS and CPU per node, peer bytes per second, scrape time and size."
    )

    @OptionGroup var cluster: ClusterBenchOptions

    @Option(help: "How long to measure the idle cluster, e.g. 60s.")
    var duration: String = "60s"

    @Option(help: "Scrapes to time at the end.")
    var scrapes: Int = 200

    func run() async throws {
        let span = try DurationParser.parse(duration)
        for security in try cluster.securities {
            // Nodes run as an operator runs them: without `--events`, whose lease line per
            // acknowledgement is observation work, not election work.
            let local = cluster.makeCluster("resources-\(security.rawValue)", printEvents: false, security: security)
            printLine("--- peers: \(security) ---")
            try await local.whileRunning { try await measure(local, for: span) }
        }
    }

    /// Everything measured while the idle cluster runs.
    func measure(_ local: LocalCluster, for measure: Duration) async throws {
        let bench = FailoverBenchmark(cluster: local, fault: .crash, heartbeat: cluster.heartbeat,
                                      electionTimeout: cluster.timeout, seed: cluster.seed)
        let leader = try await bench.waitForStableLeader(timeout: cluster.timeout * 30)
        try await Task.sleep(for: .seconds(2))  // Let start-up settle.
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        var cpuBefore: [NodeID: Double] = [:]
        var bytesBefore: [NodeID: Double] = [:]
        for node in local.nodes {
            cpuBefore[node.id] = ProcSample.cpuTicks(node.pid!) / ticksPerSecond
            bytesBefore[node.id] = try await peerBytes(node, in: local)
        }
        let start = ContinuousClock.now
        try await Task.sleep(for: measure)
        let seconds = (ContinuousClock.now - start).milliseconds / 1000
        printLine("ballot resources: \(cluster.nodes) idle nodes, heartbeat \(cluster.heartbeatInterval), election timeout \(cluster.electionTimeout), measured over \(String(format: "%.1f", seconds)) s; leader node \(leader.self_); nodes: \(cluster.nodeDescription)")
        printLine("node  role       RSS (MiB)  PSS (MiB)  anon (MiB)  CPU s/min  CPU % of a core  peer bytes/s (sent+received)")
        for node in local.nodes {
            let pid = node.pid!
            let cpu = ProcSample.cpuTicks(pid) / ticksPerSecond - cpuBefore[node.id]!
            let bytes = try await peerBytes(node, in: local) - bytesBefore[node.id]!
            let role = node.id.rawValue == leader.self_ ? "leader" : "follower"
            printLine(String(format: "%4d  ", Int(node.id.rawValue)) + role.padding(toLength: 9, withPad: " ", startingAt: 0)
                      + String(format: "  %9.2f  %9.2f  %10.2f  %9.3f  %15.2f  %10.0f", ProcSample.memoryMiB(pid, "VmRSS"),
                               ProcSample.memoryMiB(pid, "Pss", in: "smaps_rollup"), ProcSample.memoryMiB(pid, "RssAnon"),
                               cpu / seconds * 60, cpu / seconds * 100, bytes / seconds))
        }
        var latencies: [Double] = []
        var size = 0
        let target = local.node(NodeID(leader.self_)!)
        var failed = 0
        var firstFailure: String?
        for _ in 0..<scrapes {
            let begin = ContinuousClock.now
            do {
                let response = try await HTTPClient.request(.GET, local.httpTarget(of: target.id), path: "/metrics")
                latencies.append((ContinuousClock.now - begin).milliseconds)
                size = response.body.count
            } catch {
                failed += 1
                firstFailure = firstFailure ?? "\(error)"
            }
        }
        if let firstFailure {
            printLine("(\(failed) of \(scrapes) scrapes failed, the first with: \(firstFailure); \(scrapes - failed) timed)")
        }
        let summary = Summary(latencies)
        printLine(String(format: "/metrics scrape of the leader, client-side over loopback (%d scrapes): median %.2f ms, p99 %.2f ms; size %d bytes",
                         scrapes, summary.median, summary.quantile(0.99), size))
        let render = MetricsRecorder.meanRenderTime(members: cluster.nodes, iterations: 2_000)
        printLine(String(format: "server time of one render (in-process, %d-member recorder, mean of 2000): %.3f ms", cluster.nodes, render.milliseconds))
    }

    func peerBytes(_ node: NodeProcess, in local: LocalCluster) async throws -> Double {
        let text = try await HTTPClient.request(.GET, local.httpTarget(of: node.id), path: "/metrics").text
        var total = 0.0
        for line in text.split(separator: "\n") where line.hasPrefix("ballot_peer_bytes_") && !line.hasPrefix("#") {
            total += Double(line.split(separator: " ").last ?? "0") ?? 0
        }
        return total
    }
}

/// Reads a process's CPU time and resident memory from /proc.
enum ProcSample {
    /// utime + stime in clock ticks.
    static func cpuTicks(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state(0) ppid(1) … utime(11) stime(12).
        guard fields.count > 12 else { return 0 }
        return (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
    }

    /// A `Name:   1234 kB` field of a /proc file, in MiB: `VmRSS`/`RssAnon` of `status` (all resident
    /// pages / the private, anonymous ones), `Pss` of `smaps_rollup` (shared pages divided among
    /// the processes mapping them: what one more node really costs).
    static func memoryMiB(_ pid: Int32, _ field: String, in file: String = "status") -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/\(file)", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") })
        else { return 0 }
        let kib = Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        return kib / 1024
    }
}
