import ArgumentParser
import BallotClient
import BallotCore
import BallotHarness
import BallotRuntime
import BallotServer
import CProcessSupport
import Foundation
import Glibc
import NIOCore
import NIOPosix
import Synchronization

/// `ballot bench events`: what `GET /events` costs and how fast it is (issue 15's targets): the
/// delay from a node's own event line to an `/events` subscriber, and what thousands of
/// subscribers on one node cost in memory, in fan-out time and in failover time.
struct EventsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Time /events against the node's own event lines; then many subscribers on one node: memory, fan-out, failover.",
        discussion: """
            Every node prints its event lines (`--events`, stamped with CLOCK_MONOTONIC as the node writes them); \
            subscribers stamp each event with CLOCK_MONOTONIC as its bytes arrive, so the difference is the \
            delay a subscriber sees. Lease events (one per acknowledged heartbeat round on the leader) give \
            most samples; transfers add elected and lost events. Then --subscribers connect to one follower: \
            its memory is read from /proc before and after, every transfer's fan-out is timed to the last \
            subscriber, and crash failovers are timed before, with and after the subscribers (the subscribed \
            node is never the one killed), with a bootstrap interval for the median shift. The many \
            subscribers read on event loops of their own, by default at SCHED_IDLE (--subscriber-scheduling idle): on a machine shared with the nodes they then take only \
            CPU the nodes leave, as subscribers on other machines would; `normal` lets them compete.
            """
    )

    @OptionGroup var cluster: ClusterBenchOptions

    @Option(help: "Subscribers to connect to one node.")
    var subscribers: Int = 10_000

    @Option(help: "Transfers during the latency phase (each one an elected and a lost event on every node).")
    var transfers: Int = 20

    @Option(help: "Crash failovers to time in each of three phases: before, with and after the subscribers.")
    var trials: Int = 10

    /// How the many subscribers' threads are scheduled against the nodes on this machine.
    enum SubscriberScheduling: String, ExpressibleByArgument, CaseIterable {
        /// SCHED_IDLE: only CPU the nodes leave (as if the subscribers ran elsewhere).
        case idle
        /// The default policy: the subscribers compete with the nodes for the cores.
        case normal
    }

    @Option(help: "idle: the subscribers' threads run at SCHED_IDLE, on CPU the nodes leave; normal: they compete with the nodes.")
    var subscriberScheduling: SubscriberScheduling = .idle

    func validate() throws {
        guard (1...100_000).contains(subscribers) else { throw ValidationError("--subscribers must be between 1 and 100000") }
        guard (1...1_000).contains(transfers), (1...1_000).contains(trials) else {
            throw ValidationError("--transfers and --trials must be between 1 and 1000")
        }
    }

    func run() async throws {
        raiseOpenFileLimit()
        let lines = EventLineLog()
        // Every subscriber is a connection the node keeps busy: lift the HTTP connection cap
        // (default 1024, above which new connections get 503) above the subscribers.
        var options = cluster
        options.nodeArguments += ["--http-max-connections", "\(subscribers + 100)"]
        let local = options.makeCluster("events", onLine: { node, line in lines.record(node, line) })
        try await local.whileRunning {
            let bench = FailoverBenchmark(cluster: local, fault: .crash, heartbeat: cluster.heartbeat,
                                          electionTimeout: cluster.timeout, seed: cluster.seed)
            _ = try await bench.waitForStableLeader(timeout: cluster.timeout * 30)
            printLine("ballot events: \(cluster.nodes) nodes, heartbeat \(cluster.heartbeatInterval), election timeout \(cluster.electionTimeout); nodes: \(cluster.nodeDescription)")
            try await measureLatency(local, lines: lines, bench: bench)
            try await measureLoad(local, lines: lines, bench: bench)
        }
    }

    // MARK: Event line → subscriber

    func measureLatency(_ local: LocalCluster, lines: EventLineLog, bench: FailoverBenchmark) async throws {
        let received = ReceivedLog()
        var channels: [any Channel] = []
        for node in local.nodes {
            let id = node.id
            channels.append(try await EventStreamProbe.subscribe(host: "127.0.0.1", port: node.httpPort) { event in
                received.record(id, event)
            })
        }
        try await Task.sleep(for: .seconds(1))
        for _ in 0..<transfers {
            let stable = try await bench.waitForStableLeader(timeout: cluster.timeout * 30)
            let target = local.nodes.first { $0.id.rawValue != stable.self_ }!.id
            _ = try? await HTTPClient.request(.POST, host: "127.0.0.1", port: local.node(NodeID(stable.self_)!).httpPort,
                                              path: "/transfer?to=\(target)", timeout: .seconds(10))
            try await Task.sleep(for: cluster.timeout)
        }
        try await Task.sleep(for: .milliseconds(500))
        for channel in channels { try? await channel.close() }
        var all: [Double] = []
        var changes: [Double] = []
        var unmatched = 0
        for (node, event) in received.events {
            guard let key = EventLineLog.key(sse: event), let printed = lines.printedAt(node, key) else {
                if event.name != "state" { unmatched += 1 }
                continue
            }
            let delay = (Double(event.receivedAt) - Double(printed)) / 1e6
            all.append(delay)
            if event.name != "lease" { changes.append(delay) }
        }
        printLine("")
        printLine("delay from the node's own event line to an /events subscriber (one subscriber per node, \(transfers) transfers):")
        printLine("                       n    min   median    p90    p99    max   (ms; negative: the event reached the subscriber before the line was printed)")
        printLine(row("every event", Summary(all)))
        printLine(row("elected and lost", Summary(changes)))
        if unmatched > 0 { printLine("(\(unmatched) events without a matching line, not counted)") }
    }

    // MARK: Many subscribers on one node

    func measureLoad(_ local: LocalCluster, lines: EventLineLog, bench: FailoverBenchmark) async throws {
        // The subscribed node is chosen first and is never killed in any phase, so the three failover
        // phases differ only in the subscribers.
        let stable = try await bench.waitForStableLeader(timeout: cluster.timeout * 30)
        let host = local.nodes.first { $0.id.rawValue != stable.self_ }!
        let pid = try requireValue(host.pid, "node \(host.id) is not running")
        printLine("")
        printLine("crash failovers before node \(host.id) has subscribers (never the node killed):")
        let before = try await failovers(local, bench: bench, avoiding: host.id)
        printLine("")
        printLine("node \(host.id) leading, no subscribers:")
        try await measureLeading(local, host: host, bench: bench)
        try await moveLeadership(off: host.id, in: local, bench: bench)
        let group = try await subscriberLoops()
        defer { group.shutdownGracefully { _ in } }
        let memoryBefore = memory(pid)
        let counts = SubscriberCounts()
        var channels: [any Channel] = []
        let connectStart = ContinuousClock.now
        var connected = 0
        while connected < subscribers {
            let batch = min(200, subscribers - connected)
            for _ in 0..<batch {
                channels.append(try await EventStreamProbe.subscribe(host: "127.0.0.1", port: host.httpPort, group: group) { event in
                    counts.record(event)
                })
            }
            connected += batch
            let deadline = ContinuousClock.now + .seconds(30)
            while counts.states < connected && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        }
        printLine("")
        let role = await local.leaderView(of: host.id)?.isLeader == true ? "leading" : "a follower"
        printLine("\(subscribers) subscribers (\(subscriberScheduling.rawValue) scheduling) on node \(host.id) (\(role) now): connected in "
            + String(format: "%.1f s, %d got their first (state) event", (ContinuousClock.now - connectStart).milliseconds / 1000, counts.states))
        try await Task.sleep(for: .seconds(3))
        let memoryAfter = memory(pid)
        printLine(String(format: "node %d memory: RSS %.1f → %.1f MiB (+%.1f), PSS %.1f → %.1f MiB (+%.1f), anonymous %.1f → %.1f MiB (+%.1f); %.2f KiB per subscriber (anonymous)",
                         Int(host.id.rawValue), memoryBefore.rss, memoryAfter.rss, memoryAfter.rss - memoryBefore.rss, memoryBefore.pss, memoryAfter.pss,
                         memoryAfter.pss - memoryBefore.pss, memoryBefore.anon, memoryAfter.anon, memoryAfter.anon - memoryBefore.anon,
                         (memoryAfter.anon - memoryBefore.anon) * 1024 / Double(subscribers)))

        // Fan-out: each transfer's elected event, from the node's line to the last subscriber.
        var last: [Double] = []
        var median: [Double] = []
        for _ in 0..<min(transfers, 10) {
            let current = try await bench.waitForStableLeader(timeout: cluster.timeout * 30)
            let target = local.nodes.first { $0.id.rawValue != current.self_ && $0.id != host.id }?.id
                ?? local.nodes.first { $0.id.rawValue != current.self_ }!.id
            let mark = counts.markElected()
            _ = try? await HTTPClient.request(.POST, host: "127.0.0.1", port: local.node(NodeID(current.self_)!).httpPort,
                                              path: "/transfer?to=\(target)", timeout: .seconds(10))
            let deadline = ContinuousClock.now + .seconds(10)
            while counts.elected(since: mark).count < subscribers && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            let arrivals = counts.elected(since: mark)
            guard let term = arrivals.first?.term, let printed = lines.printedAt(host.id, "elected:\(term)") else { continue }
            let delays = Summary(arrivals.filter { $0.term == term }.map { (Double($0.at) - Double(printed)) / 1e6 })
            if delays.count < subscribers { printLine("  (a transfer reached \(delays.count) of \(subscribers) subscribers in 10 s)") }
            last.append(delays.max)
            median.append(delays.median)
            try await Task.sleep(for: cluster.timeout)
        }
        printLine("fan-out of an elected event to every subscriber, from node \(host.id)'s own line (ms):")
        printLine(row("median subscriber", Summary(median)))
        printLine(row("last subscriber", Summary(last)))

        printLine("")
        printLine("node \(host.id) leading, with the \(subscribers) subscribers:")
        try await measureLeading(local, host: host, bench: bench)

        printLine("")
        printLine("crash failovers with \(subscribers) subscribers on node \(host.id) (never the node killed):")
        let loaded = try await failovers(local, bench: bench, avoiding: host.id)
        let stillOpen = channels.filter(\.isActive).count
        printLine("subscribers still connected at the end: \(stillOpen) of \(subscribers)")
        for channel in channels { channel.close(promise: nil) }
        let drained = ContinuousClock.now + .seconds(30)
        while channels.contains(where: \.isActive) && ContinuousClock.now < drained { try await Task.sleep(for: .milliseconds(50)) }
        try await Task.sleep(for: cluster.timeout)

        printLine("")
        printLine("crash failovers after the subscribers left node \(host.id) (never the node killed):")
        let after = try await failovers(local, bench: bench, avoiding: host.id)
        reportSlowdown(before: before, loaded: loaded, after: after)
    }

    /// The subscribers' effect on failover against the two phases without them around it: the
    /// before/after shift is what the machine alone moves, the loaded shift (against both pooled)
    /// is what the subscribers add, each with its bootstrap interval.
    func reportSlowdown(before: Summary, loaded: Summary, after: Summary) {
        let baseline = before.sorted + after.sorted
        printLine("")
        printLine(String(format: "survivor leads, median / p90: %.1f / %.1f ms before, %.1f / %.1f ms with the subscribers, %.1f / %.1f ms after",
                         before.median, before.quantile(0.9), loaded.median, loaded.quantile(0.9), after.median, after.quantile(0.9)))
        let describe = { (label: String, shift: MedianShift?) in
            guard let shift else { return printLine("\(label): no trials") }
            printLine("\(label): " + String(format: "%+.1f ms (95%% bootstrap interval %+.1f … %+.1f ms", shift.shift, shift.low,
                                                shift.high) + (shift.includesZero ? ", holds zero)" : ")"))
        }
        describe("median shift, after − before (the machine alone)", MedianShift(baseline: before.sorted, treated: after.sorted))
        describe("median shift, with subscribers − without (before and after pooled)", MedianShift(baseline: baseline, treated: loaded.sorted))
    }

    /// Moves leadership to `host`, then for 10 s reads its CPU time and times `GET /leader` on it
    /// every 250 ms: what a leader's lease events cost with the subscribers it has, and whether its
    /// HTTP loops still answer.
    func measureLeading(_ local: LocalCluster, host: NodeProcess, bench: FailoverBenchmark) async throws {
        for _ in 0..<5 {
            let current = try await bench.waitForStableLeader(timeout: cluster.timeout * 30)
            if current.self_ == host.id.rawValue { break }
            _ = try? await HTTPClient.request(.POST, host: "127.0.0.1", port: local.node(NodeID(current.self_)!).httpPort,
                                              path: "/transfer?to=\(host.id)", timeout: .seconds(10))
            try await Task.sleep(for: cluster.timeout)
        }
        let leader = try await bench.waitForStableLeader(timeout: cluster.timeout * 30)
        guard leader.self_ == host.id.rawValue, let pid = host.pid else {
            printLine("  (node \(host.id) could not be made leader: skipped)")
            return
        }
        let ticksBefore = ProcSample.cpuTicks(pid)
        let started = ContinuousClock.now
        var answers: [Double] = []
        var failures = 0
        for _ in 0..<40 {
            let asked = ContinuousClock.now
            do {
                _ = try await HTTPClient.request(.GET, host: "127.0.0.1", port: host.httpPort, path: "/leader", timeout: .seconds(5))
                answers.append((ContinuousClock.now - asked).milliseconds)
            } catch {
                failures += 1
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        let seconds = (ContinuousClock.now - started).milliseconds / 1000
        let cores = (ProcSample.cpuTicks(pid) - ticksBefore) / Double(sysconf(Int32(_SC_CLK_TCK))) / seconds
        let stillLeads = await local.leaderView(of: host.id)?.isLeader ?? false
        printLine(String(format: "  CPU %.3f cores over %.1f s", cores, seconds)
            + " (\(stillLeads ? "still leading" : "no longer leading")); GET /leader: \(answers.count) answered, \(failures) failed (5 s timeout)")
        printLine(row("  /leader (ms)", Summary(answers)))
    }

    /// Transfers leadership away from `node` if it leads, and waits an election timeout.
    func moveLeadership(off node: NodeID, in local: LocalCluster, bench: FailoverBenchmark) async throws {
        let stable = try await bench.waitForStableLeader(timeout: cluster.timeout * 30)
        guard stable.self_ == node.rawValue else { return }
        let target = local.nodes.first { $0.id != node }!.id
        _ = try? await HTTPClient.request(.POST, host: "127.0.0.1", port: local.node(node).httpPort,
                                          path: "/transfer?to=\(target)", timeout: .seconds(10))
        try await Task.sleep(for: cluster.timeout)
    }

    /// `trials` crash failovers; before each, leadership is moved off `avoiding` so it is never killed.
    func failovers(_ local: LocalCluster, bench: FailoverBenchmark, avoiding: NodeID?) async throws -> Summary {
        var results: [Double] = []
        for index in 1...trials {
            if let avoiding { try await moveLeadership(off: avoiding, in: local, bench: bench) }
            do {
                let trial = try await bench.runTrial()
                results.append(trial.firstLeaderMs)
                // More than one term: the first campaign failed (a split vote, most often).
                printLine(String(format: "  trial %2d: leader %d -> %d, survivor leads after %.1f ms", index,
                                 Int(trial.oldLeader), Int(trial.newLeader), trial.firstLeaderMs)
                    + " (\(trial.terms) term\(trial.terms == 1 ? "" : "s"))")
            } catch {
                printLine("  trial \(index): \(error)")
            }
        }
        let summary = Summary(results)
        printLine(row("survivor leads", summary))
        return summary
    }

    /// The subscribers' own event loops, as many as there are cores, scheduled by
    /// `--subscriber-scheduling` (sched_setscheduler on a thread applies to that thread only).
    func subscriberLoops() async throws -> MultiThreadedEventLoopGroup {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        guard subscriberScheduling == .idle else { return group }
        for loop in group.makeIterator() {
            let failed = try await loop.submit { ballot_idle_scheduling() == 0 ? nil : errno }.get()
            if let failed {
                printLine("warning: SCHED_IDLE refused for a subscriber thread (\(String(cString: strerror(failed)))); they compete with the nodes")
            }
        }
        return group
    }

    func memory(_ pid: Int32) -> (rss: Double, pss: Double, anon: Double) {
        (ProcSample.memoryMiB(pid, "VmRSS"), ProcSample.memoryMiB(pid, "Pss", in: "smaps_rollup"),
         ProcSample.memoryMiB(pid, "RssAnon"))
    }

    func row(_ label: String, _ s: Summary) -> String {
        label.padding(toLength: 20, withPad: " ", startingAt: 0)
            + String(format: " %4d %7.2f %7.2f %7.2f %7.2f %7.2f", s.count, s.min, s.median, s.quantile(0.9), s.quantile(0.99), s.max)
    }

    /// Raises this process's open-file limit to its hard limit (the nodes inherit it): every
    /// subscriber is a socket here and one at the node.
    func raiseOpenFileLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let needed = rlim_t(2 * subscribers + 1_000)
        if limit.rlim_cur < needed {
            printLine("warning: the open-file limit (\(limit.rlim_cur)) is below the \(needed) this run needs; raise `ulimit -n`")
        }
    }
}

/// Throws a benchmark error when `value` is nil.
private func requireValue<T>(_ value: T?, _ message: String) throws -> T {
    guard let value else { throw BenchmarkError(message) }
    return value
}

/// The instants the nodes printed their event lines, by node and event.
final class EventLineLog: Sendable {
    private let printed = Mutex<[String: UInt64]>([:])

    /// Keys an event line: `lease:<from_ns>`, `elected:<term>`, `lost:<term>`.
    func record(_ node: NodeID, _ line: String) {
        guard line.hasPrefix("event=") else { return }
        var fields: [Substring: Substring] = [:]
        for pair in line.split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        guard let kind = fields["event"], let at = fields["mono_ns"].flatMap({ UInt64($0) }) else { return }
        let key: String
        switch kind {
        case "lease": key = "lease:\(fields["from_ns"] ?? "")"
        case "elected", "lost": key = "\(kind):\(fields["term"] ?? "")"
        default: return
        }
        printed.withLock { $0["\(node):\(key)"] = $0["\(node):\(key)"] ?? at }
    }

    func printedAt(_ node: NodeID, _ key: String) -> UInt64? { printed.withLock { $0["\(node):\(key)"] } }

    /// The key of the line that printed the same change as `event`.
    static func key(sse event: EventStreamProbe.Event) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(event.data.utf8)) as? [String: Any] else { return nil }
        switch event.name {
        case "lease": return (object["from_mono_ns"] as? NSNumber).map { "lease:\($0.uint64Value)" }
        case "elected", "lost": return (object["term"] as? NSNumber).map { "\(event.name):\($0.uint64Value)" }
        default: return nil
        }
    }
}

/// Events one subscriber per node received.
final class ReceivedLog: Sendable {
    private let received = Mutex<[(NodeID, EventStreamProbe.Event)]>([])
    func record(_ node: NodeID, _ event: EventStreamProbe.Event) { received.withLock { $0.append((node, event)) } }
    var events: [(NodeID, EventStreamProbe.Event)] { received.withLock { $0 } }
}

/// What thousands of subscribers received: how many got their state, and when each got each elected event.
final class SubscriberCounts: Sendable {
    struct Arrival: Sendable {
        var term: UInt64
        var at: UInt64
    }

    private struct State {
        var states = 0
        var elected: [Arrival] = []
    }

    private let state = Mutex(State())

    func record(_ event: EventStreamProbe.Event) {
        switch event.name {
        case "state":
            state.withLock { $0.states += 1 }
        case "elected":
            guard let range = event.data.range(of: "\"term\":"),
                  let term = UInt64(event.data[range.upperBound...].prefix { $0.isNumber })
            else { return }
            state.withLock { $0.elected.append(Arrival(term: term, at: event.receivedAt)) }
        default:
            break
        }
    }

    var states: Int { state.withLock { $0.states } }
    func markElected() -> Int { state.withLock { $0.elected.count } }
    func elected(since mark: Int) -> [Arrival] { state.withLock { Array($0.elected[mark...]) } }
}
