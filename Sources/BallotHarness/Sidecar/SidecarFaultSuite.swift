import BallotChildRun
import BallotClient
import BallotCore
import BallotRuntime
import BallotSimulation
import Foundation
import Glibc

/// The sidecar mode of the fault suite (`ballot faults --sidecar`): every node of a real cluster
/// runs `ballot run -- ballot-writer`, a writer that records when it runs and under which
/// term and ignores both its lease pipe and SIGTERM (the worst case). One fault at a time hits the
/// leading node, its sidecar, or the writer (``SidecarFault``); afterwards the writers' records and
/// the nodes' lease lines are checked (``ChildHistoryChecker``, and ``HistoryChecker`` on the
/// nodes), and the time with no writer running is measured per fault.
public enum SidecarFaultSuite {
    public struct Options: Sendable {
        public var faults = 40
        public var nodeCounts = [3, 5]
        public var kinds = SidecarFault.all
        public var seed: UInt64 = 1
        public var namespaces = true
        public var electionTimeout: Duration = .milliseconds(300)
        public var heartbeatInterval: Duration = .milliseconds(50)
        /// `--lease-duration` of every node (`nil`: the longest the election timeout allows).
        public var leaseDuration: Duration?
        /// The `ballot` executable: nodes (`ballot serve`) and sidecars (`ballot run`); the writers are
        /// the `ballot-writer` in its directory.
        public var binary: String
        public var workDirectory: String
        public var bounds = HistoryChecker.Bounds()
        /// How long after a fault heals a writer must run again on the leader.
        public var childRecovery: Duration = .seconds(10)

        public init(binary: String, workDirectory: String) {
            self.binary = binary
            self.workDirectory = workDirectory
        }
    }

    public struct Report: Sendable {
        public var requestedFaults = 0
        public var faultsByKind: [SidecarFault: Int] = [:]
        public var faultsByClusterSize: [Int: Int] = [:]
        /// Violations of the node-level properties (lease overlap, election safety…).
        public var nodeViolations: [HistoryChecker.Violation] = []
        /// Violations of the child properties.
        public var childViolations: [ChildHistoryChecker.Violation] = []
        public var children = 0
        /// Milliseconds with no writer running, from each fault's start to the next fault's, by fault.
        public var gapMilliseconds: [SidecarFault: [Double]] = [:]
        /// Milliseconds during which two writers ran at once, in all.
        public var overlapMilliseconds = 0.0
        /// Covering lease deadline minus each run's last stamp, milliseconds.
        public var marginMilliseconds: [Double] = []
        /// Milliseconds from each heal until a writer ran again on the stable leader.
        public var recoveryMilliseconds: [Double] = []
        public var unrecovered = 0
        /// Faults that must replace the writer after which none started, by cluster size and number.
        public var withoutNewChild: [String] = []
        /// Sidecars that exited on their own (never expected).
        public var sidecarExits: [String] = []
        public var namespaceSkipReason: String?
        public var namespaceSkipRequested = false
        public var usedNamespaces = false
        public var seconds = 0.0

        public init() {}

        public var totalFaults: Int { faultsByKind.values.reduce(0, +) }

        public var failures: [String] {
            var failures: [String] = []
            if !nodeViolations.isEmpty { failures.append("\(nodeViolations.count) violations of the node properties") }
            if !childViolations.isEmpty { failures.append("\(childViolations.count) violations of the child properties") }
            if unrecovered > 0 { failures.append("\(unrecovered) heals after which no writer ran again within the bound") }
            if totalFaults == 0 {
                failures.append("no fault was injected")
            } else if totalFaults < requestedFaults {
                failures.append("only \(totalFaults) of the \(requestedFaults) faults asked for were injected")
            }
            if children < 2 && totalFaults > 0 { failures.append("fewer than two writers ran: nothing was handed over") }
            if !withoutNewChild.isEmpty {
                failures.append("no new writer after faults that stop it: \(withoutNewChild.joined(separator: ", "))")
            }
            if !sidecarExits.isEmpty { failures.append("sidecars exited on their own: \(sidecarExits.joined(separator: "; "))") }
            if let namespaceSkipReason, !namespaceSkipRequested {
                failures.append("partitions were skipped (\(namespaceSkipReason)); pass --no-namespaces to run without them on purpose")
            }
            return failures
        }

        public var summary: String {
            var lines: [String] = []
            let kinds = SidecarFault.all.compactMap { fault in faultsByKind[fault].map { "\(fault)=\($0)" } }
            lines.append("sidecar faults injected: \(totalFaults) (\(kinds.joined(separator: " ")))")
            lines.append("by cluster size: " + faultsByClusterSize.keys.sorted().map { "\($0) nodes: \(faultsByClusterSize[$0]!)" }
                .joined(separator: ", "))
            lines.append("writers started: \(children); time two writers ran at once: \(String(format: "%.3f", overlapMilliseconds)) ms")
            let margins = marginMilliseconds.sorted()
            if let low = margins.first {
                lines.append(String(format: "lease deadline minus a writer's last stamp: min %.1f ms, median %.1f ms (n=%d)",
                                    low, margins[margins.count / 2], margins.count))
            }
            lines.append("time with no writer running, per fault (ms):")
            for fault in SidecarFault.all {
                guard let gaps = gapMilliseconds[fault]?.sorted(), !gaps.isEmpty else { continue }
                let name = fault.description.padding(toLength: 14, withPad: " ", startingAt: 0)
                lines.append("  \(name)" + String(format: "n=%-4d median %7.1f  p90 %7.1f  p99 %7.1f  max %7.1f",
                                                  gaps.count, percentile(gaps, 0.5), percentile(gaps, 0.9),
                                                  percentile(gaps, 0.99), gaps.last!))
            }
            let recovery = recoveryMilliseconds.sorted()
            if !recovery.isEmpty {
                lines.append(String(format: "writer running again after heal: median %.0f ms, p99 %.0f ms, max %.0f ms, unrecovered %d",
                                    percentile(recovery, 0.5), percentile(recovery, 0.99), recovery.last!, unrecovered))
            }
            let placement = namespaceSkipReason.map { "SKIPPED (\($0)): partitions NOT run" }
                ?? (usedNamespaces ? "used" : "not needed (no partitions asked for)")
            lines.append("network namespaces: \(placement)")
            lines.append("violations: \(nodeViolations.count + childViolations.count)")
            for violation in childViolations.prefix(20) { lines.append("  \(violation)") }
            for violation in nodeViolations.prefix(20) { lines.append("  \(violation)") }
            let failures = failures
            lines.append(failures.isEmpty ? "result: PASSED" : "result: FAILED")
            for failure in failures { lines.append("  \(failure)") }
            lines.append(String(format: "duration: %.0f s", seconds))
            return lines.joined(separator: "\n")
        }
    }

    /// Runs the suite; `log` gets a line per fault.
    public static func run(_ options: Options, log: @escaping @Sendable (String) -> Void = { print($0) }) async throws -> Report {
        let started = ContinuousClock.now
        var report = Report()
        report.requestedFaults = options.faults
        var random = SplitMix64(seed: options.seed)
        var kinds = options.kinds
        if kinds.contains(where: \.needsNetwork) {
            let reason = options.namespaces ? await NetworkLab.unavailableReason() : "disabled by --no-namespaces"
            if let reason {
                report.namespaceSkipReason = reason
                report.namespaceSkipRequested = !options.namespaces
                log(FaultSuite.skipBanner(reason))
                kinds = kinds.filter { !$0.needsNetwork }
            }
        }
        guard !kinds.isEmpty else { return report }
        _ = try ChildRun.writer(nextTo: options.binary)  // Before any cluster starts: missing, it fails at once.
        let namespaces = report.namespaceSkipReason == nil && kinds.contains(where: \.needsNetwork)
        if namespaces { await NetworkLab.removeStale() }
        report.usedNamespaces = namespaces
        for (position, size) in options.nodeCounts.enumerated() {
            let share = options.faults / options.nodeCounts.count + (position < options.faults % options.nodeCounts.count ? 1 : 0)
            guard share > 0 else { continue }
            let run = try await runCluster(size: size, faults: share, kinds: kinds, namespaces: namespaces, options: options,
                                           random: &random, log: log)
            for (kind, count) in run.faultsByKind { report.faultsByKind[kind, default: 0] += count }
            report.faultsByClusterSize[size, default: 0] += run.totalFaults
            report.nodeViolations += run.nodeViolations
            report.childViolations += run.childViolations
            report.children += run.children
            for (kind, gaps) in run.gapMilliseconds { report.gapMilliseconds[kind, default: []] += gaps }
            report.overlapMilliseconds += run.overlapMilliseconds
            report.marginMilliseconds += run.marginMilliseconds
            report.recoveryMilliseconds += run.recoveryMilliseconds
            report.unrecovered += run.unrecovered
            report.withoutNewChild += run.withoutNewChild
            report.sidecarExits += run.sidecarExits
        }
        report.seconds = (ContinuousClock.now - started).milliseconds / 1000
        return report
    }

    /// One fault as injected: what, and when it began and healed (CLOCK_MONOTONIC).
    struct Injected {
        var number: Int
        var fault: SidecarFault
        var began: UInt64
        var stopsWriter: Bool
    }

    static func runCluster(size: Int, faults: Int, kinds: [SidecarFault], namespaces: Bool, options: Options,
                           random: inout SplitMix64, log: @escaping @Sendable (String) -> Void) async throws -> Report {
        var report = Report()
        let ids = (1...UInt64(size)).map { $0 }
        let lab = namespaces ? NetworkLab(nodes: ids) : nil
        let directory = "\(options.workDirectory)/sidecar\(size)-\(UInt32.random(in: 0...UInt32.max))"
        var settings = FaultCluster.Settings()
        settings.nodes = size
        settings.electionTimeout = options.electionTimeout
        settings.heartbeatInterval = options.heartbeatInterval
        settings.leaseDuration = options.leaseDuration
        let placement: FaultCluster.Placement
        if let lab {
            try await lab.setUp()
            placement = .namespaces(lab)
        } else {
            let peerBase = LoopbackPorts.consecutiveFree(size, from: Int.random(in: 20_000...50_000))
            placement = .loopback(peerBasePort: peerBase, httpBasePort: LoopbackPorts.consecutiveFree(size, from: peerBase + size))
        }
        let cluster = FaultCluster(settings: settings, placement: placement, binary: options.binary, dataDirectory: directory)
        let sidecars = try SidecarSet(cluster: cluster, binary: options.binary, directory: directory)
        let records = sidecars.records
        log("==> sidecar suite: \(size) nodes, \(faults) faults, \(lab.map { "namespaces \($0.runID)" } ?? "loopback")")
        var injected: [Injected] = []
        do {
            try cluster.startAll()
            guard await cluster.waitForStableLeader(timeout: .seconds(20)) != nil else {
                throw Subprocess.Failure(description: "no leader within 20 s of start\n\(cluster.logs())")
            }
            try sidecars.startAll()
            guard await sidecars.waitForWriter(timeout: .seconds(20)) != nil else {
                throw Subprocess.Failure(description: "no writer ran within 20 s of the sidecars' start\n\(sidecars.logs())")
            }
            let injector = SidecarInjector(cluster: cluster, sidecars: sidecars, options: options, log: log)
            for number in 0..<faults {
                let fault = kinds[Int(random.next() % UInt64(kinds.count))]
                report.sidecarExits += sidecars.unexpectedExits().map { "\(size) nodes, before fault #\(number): \($0)" }
                guard let outcome = try await injector.inject(fault, number: number, random: &random) else { continue }
                report.faultsByKind[fault, default: 0] += 1
                injected.append(Injected(number: number, fault: fault, began: outcome.began, stopsWriter: outcome.stopsWriter))
                if let recovered = outcome.recoveryMilliseconds {
                    report.recoveryMilliseconds.append(recovered)
                } else {
                    report.unrecovered += 1
                }
            }
            report.sidecarExits += sidecars.unexpectedExits().map { "\(size) nodes, at the end: \($0)" }
        } catch {
            await sidecars.stopAll()
            await cluster.stopAll()
            await lab?.tearDown()
            throw error
        }
        let ended = SystemMonotonicClock.now.nanoseconds
        await sidecars.stopAll()
        await cluster.stopAll()
        await lab?.tearDown()

        let events = cluster.timeline.events
        let runs = try ChildRun.load(from: records)
        let leases = events.compactMap { event -> LeaseEventLine? in
            if case .lease(let line) = event { return line }
            return nil
        }
        report.nodeViolations = HistoryChecker(bounds: options.bounds).check(events, endedAt: ended)
        let checker = ChildHistoryChecker(clockError: options.bounds.clockError)
        report.childViolations = checker.check(runs, leases: leases)
        report.children = runs.count
        report.overlapMilliseconds = Double(ChildHistoryChecker.overlapTime(runs, from: 0, to: .max)) / 1e6
        report.marginMilliseconds = checker.margins(runs, leases: leases).map { Double($0) / 1e6 }
        report.faultsByClusterSize[size] = report.totalFaults
        for (index, fault) in injected.enumerated() {
            let next = index + 1 < injected.count ? injected[index + 1].began : ended
            let gap = ChildHistoryChecker.idleTime(runs, from: fault.began, to: next)
            report.gapMilliseconds[fault.fault, default: []].append(Double(gap) / 1e6)
            if fault.stopsWriter && !runs.contains(where: { $0.first > fault.began && $0.first < next }) {
                report.withoutNewChild.append("\(size) nodes #\(fault.number) (\(fault.fault))")
            }
        }
        if report.nodeViolations.isEmpty && report.childViolations.isEmpty && report.unrecovered == 0
            && report.withoutNewChild.isEmpty && report.sidecarExits.isEmpty
        {
            try? FileManager.default.removeItem(atPath: directory)
        } else {
            let dump = events.map { "\($0)" }.joined(separator: "\n") + "\n" + runs.map { "\($0)" }.joined(separator: "\n")
            try? dump.write(toFile: "\(directory)/timeline.txt", atomically: true, encoding: .utf8)
            log("!! evidence (timeline, writer records, node and sidecar logs) kept in \(directory)")
        }
        return report
    }
}

/// The nearest-rank percentile of sorted values.
func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let rank = Int((Double(sorted.count) * fraction).rounded(.up))
    return sorted[min(sorted.count - 1, max(0, rank - 1))]
}

/// The `ballot run` process of every node of a ``FaultCluster``, each running the writer (or
/// another command): the sidecar suite's and the end-to-end tests' sidecars.
public final class SidecarSet: @unchecked Sendable {
    public let cluster: FaultCluster
    /// Where the writers put their records.
    public let records: String
    public private(set) var processes: [NodeProcess] = []
    private let lock = NSLock()
    /// Sidecars the harness stopped on purpose (SIGKILL until restarted), which may be down.
    private var down = Set<UInt64>()

    /// - Parameters:
    ///   - runArguments: extra `ballot run` flags (`--on-exit`, `--grace`…), placed before `--`.
    ///   - command: what each sidecar runs; by default the writer (`ballot-writer` next to `binary`),
    ///     recording in `records`, ignoring SIGTERM.
    public init(cluster: FaultCluster, binary: String, directory: String, runArguments: [String] = [],
                command: [String]? = nil) throws {
        self.cluster = cluster
        records = "\(directory)/records"
        try? FileManager.default.createDirectory(atPath: records, withIntermediateDirectories: true)
        let command = try command ?? [ChildRun.writer(nextTo: binary), "--record", records, "--ignore-sigterm"]
        for node in cluster.nodes {
            let id = node.id.rawValue
            let scheme = cluster.settings.httpTLS == nil ? "http" : "https"
            let run = [binary, "run", "--http", "\(scheme)://127.0.0.1:\(node.httpPort)"] + runArguments + ["--"] + command
            let (executable, arguments): (String, [String])
            if let lab = cluster.lab {
                executable = Subprocess.locate("ip") ?? "/usr/sbin/ip"
                arguments = ["netns", "exec", lab.namespace(of: id)] + run
            } else {
                executable = binary
                arguments = Array(run.dropFirst())
            }
            processes.append(NodeProcess(id: node.id, binary: executable, arguments: arguments, peerPort: node.peerPort,
                                         httpPort: node.httpPort, dataDirectory: "\(directory)/sidecar\(id)") { _, _ in })
        }
    }

    public func process(_ id: UInt64) -> NodeProcess { processes[Int(id) - 1] }

    public func startAll() throws { for process in processes { try process.start() } }

    public func start(_ id: UInt64) throws {
        try process(id).start()
        _ = lock.withLock { down.remove(id) }
    }

    /// SIGKILL, then waits (bounded) until the sidecar is gone.
    public func kill(_ id: UInt64) async {
        _ = lock.withLock { down.insert(id) }
        process(id).signal(SIGKILL)
        await process(id).waitForExit(timeout: .seconds(5))
    }

    /// Sidecars not running although the harness did not stop them.
    public func unexpectedExits() -> [String] {
        let stopped = lock.withLock { down }
        return processes.filter { !$0.isRunning && !stopped.contains($0.id.rawValue) }.map {
            "sidecar of node \($0.id) exited; its log ends: \($0.log.suffix(400))"
        }
    }

    /// SIGTERM to every sidecar (each forwards it, then SIGKILLs its writer within its lease), bounded.
    public func stopAll() async {
        await withTaskGroup(of: Void.self) { group in
            for process in processes { group.addTask { await process.stop(grace: .seconds(5)) } }
        }
    }

    /// The writer running now (its last stamp within the last 50 ms), if any.
    public func runningWriter() -> ChildRun? {
        let now = SystemMonotonicClock.now.nanoseconds
        let runs = (try? ChildRun.load(from: records)) ?? []
        return runs.filter { $0.last + 50_000_000 > now }.max { $0.last < $1.last }
    }

    /// Waits (bounded) until the stable leader's writer runs under the leader's term, and (with
    /// `startedAfter`) was started after that instant; returns it.
    public func waitForWriter(timeout: Duration, startedAfter: UInt64? = nil) async -> ChildRun? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let leader = await cluster.waitForStableLeader(timeout: .milliseconds(500)),
               let writer = runningWriter(), writer.node == leader.self_, writer.term == leader.term,
               writer.first > (startedAfter ?? 0)
            {
                return writer
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    public func logs(limit: Int = 1500) -> String {
        processes.map { "--- sidecar \($0.id) ---\n\($0.log.suffix(limit))" }.joined(separator: "\n")
    }
}

/// Injects one ``SidecarFault`` and waits (bounded) until a writer runs again on a stable leader.
struct SidecarInjector {
    let cluster: FaultCluster
    let sidecars: SidecarSet
    let options: SidecarFaultSuite.Options
    let log: @Sendable (String) -> Void

    struct Outcome {
        var began: UInt64
        var stopsWriter: Bool
        var recoveryMilliseconds: Double?
    }

    var timeout: Double { options.electionTimeout.milliseconds }

    func inject(_ fault: SidecarFault, number: Int, random: inout SplitMix64) async throws -> Outcome? {
        guard let writer = await sidecars.waitForWriter(timeout: .seconds(5)) else {
            log("#\(number) skipped: no writer running on a stable leader")
            return nil
        }
        // Faults do not all come the instant a new writer runs: the cluster settles for a while first.
        try? await Task.sleep(for: .milliseconds(Int64(random.milliseconds(in: 100...400))))
        let leader = writer.node
        let followers = cluster.ids.filter { $0 != leader }
        var detail = ""
        var stopsWriter = true
        var began = SystemMonotonicClock.now.nanoseconds
        func begin(_ kind: FaultKind, _ text: String) {
            detail = text
            cluster.timeline.append(.faultBegan(number: number, kind: kind, detail: "\(fault): \(text)", at: began))
        }
        /// POSTs until the node accepts (a leader a few milliseconds old may refuse a hand-over); the
        /// fault begins with the accepted request.
        func handOver(_ path: String) async -> String {
            var refusals: [String] = []
            for _ in 0..<20 {
                began = SystemMonotonicClock.now.nanoseconds
                let (status, body) = await post(leader, path)
                if status == 200 { return "HTTP 200 \(body)" + (refusals.isEmpty ? "" : " after \(refusals.count) refusals") }
                refusals.append("HTTP \(status) \(body)")
                try? await Task.sleep(for: .milliseconds(100))
            }
            return "refused 20 times, last: \(refusals.last ?? "")"
        }
        switch (fault.action, fault.target) {
        case (.fault(.crash), .node):
            let down = random.milliseconds(in: 100...1500)
            begin(.crash, "SIGKILL leading node \(leader), restart after \(Int(down)) ms")
            await cluster.kill(leader)
            try? await Task.sleep(for: .milliseconds(Int64(down)))
            try cluster.start(leader)
        case (.fault(.pause), .node):
            let length = random.milliseconds(in: (timeout * 1.3)...(timeout * 4))
            begin(.pause, "SIGSTOP leading node \(leader) for \(Int(length)) ms")
            cluster.pause(leader)
            try? await Task.sleep(for: .milliseconds(Int64(length)))
            cluster.resume(leader)
        case (.fault(.crash), .sidecar):
            let down = random.milliseconds(in: 100...1000)
            begin(.crash, "SIGKILL the sidecar of leading node \(leader), restart after \(Int(down)) ms")
            await sidecars.kill(leader)
            try? await Task.sleep(for: .milliseconds(Int64(down)))
            try sidecars.start(leader)
        case (.fault(.pause), .sidecar):
            let length = random.milliseconds(in: (timeout * 1.3)...(timeout * 4))
            begin(.pause, "SIGSTOP the sidecar of leading node \(leader) for \(Int(length)) ms")
            sidecars.process(leader).signal(SIGSTOP)
            try? await Task.sleep(for: .milliseconds(Int64(length)))
            sidecars.process(leader).signal(SIGCONT)
        case (.fault(.crash), .child):
            begin(.crash, "SIGKILL writer pid \(writer.pid) of leading node \(leader) (--on-exit resign)")
            kill(writer.pid, SIGKILL)
        case (.fault(.pause), .child):
            let length = random.milliseconds(in: (timeout * 1.3)...(timeout * 4))
            begin(.pause, "SIGSTOP writer pid \(writer.pid) of leading node \(leader) for \(Int(length)) ms")
            stopsWriter = false
            kill(writer.pid, SIGSTOP)
            try? await Task.sleep(for: .milliseconds(Int64(length)))
            kill(writer.pid, SIGCONT)
        case (.fault(.partition), _):
            guard let lab = cluster.lab else { return nil }
            let length = random.milliseconds(in: (timeout * 2)...(timeout * 6))
            begin(.partition, "leading node \(leader) cut off from \(followers) for \(Int(length)) ms")
            try await lab.block(from: leader, to: followers)
            for follower in followers { try await lab.block(from: follower, to: [leader]) }
            try? await Task.sleep(for: .milliseconds(Int64(length)))
            try await lab.healAll()
        case (.fault(.transfer), _):
            let target = followers[Int(random.next() % UInt64(followers.count))]
            let answer = await handOver("/transfer?to=\(target)")
            stopsWriter = answer.hasPrefix("HTTP 200")
            begin(.transfer, "POST /transfer?to=\(target) on leading node \(leader) -> \(answer)")
        case (.resign, _):
            let answer = await handOver("/resign")
            stopsWriter = answer.hasPrefix("HTTP 200")
            begin(.transfer, "POST /resign on leading node \(leader) -> \(answer)")
        default:
            return nil
        }
        cluster.timeline.append(.faultHealed(number: number, at: SystemMonotonicClock.now.nanoseconds))
        let healed = ContinuousClock.now
        let next = await sidecars.waitForWriter(timeout: options.childRecovery, startedAfter: stopsWriter ? began : nil)
        let took = (ContinuousClock.now - healed).milliseconds
        let outcome = next.map { "writer of node \($0.node) term \($0.term) after \(Int(took)) ms" } ?? "NO WRITER within bound"
        log("#" + "\(number)".padding(toLength: 5, withPad: " ", startingAt: 0)
            + fault.description.padding(toLength: 15, withPad: " ", startingAt: 0) + "\(detail) -> \(outcome)")
        return Outcome(began: began, stopsWriter: stopsWriter, recoveryMilliseconds: next == nil ? nil : took)
    }

    /// `POST path` on a node (inside its namespace with curl, else directly): status (0 without an
    /// answer) and body.
    func post(_ id: UInt64, _ path: String) async -> (Int, String) {
        let port = cluster.node(id).httpPort
        if let lab = cluster.lab {
            let result = await Subprocess.run(["ip", "netns", "exec", lab.namespace(of: id), "curl", "-s", "-m", "5",
                                               "-w", "\\n%{http_code}", "-X", "POST", "http://127.0.0.1:\(port)\(path)"])
            let lines = result.output.split(separator: "\n", omittingEmptySubsequences: false)
            return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: " ").trimmingCharacters(in: .whitespacesAndNewlines))
        }
        guard let response = try? await HTTPClient.request(.POST, host: "127.0.0.1", port: port, path: path,
                                                           timeout: .seconds(5))
        else { return (0, "no answer") }
        return (response.status, response.text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
