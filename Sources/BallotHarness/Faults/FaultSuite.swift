import BallotSimulation
import BallotRuntime
import BallotCore
import BallotClient
import Foundation
import Glibc

/// Runs a seeded sequence of faults against real clusters of 3, 5… processes, one fault at a time,
/// each bounded in duration and healed before the next, and checks the recorded history with
/// ``HistoryChecker``. `ballot faults` and the BallotFaultTests target drive it.
public enum FaultSuite {
    public struct Options: Sendable {
        /// Faults to inject in total, spread evenly over `nodeCounts`.
        public var faults = 40
        /// Cluster sizes, each at least 3 (a bridge needs a node besides two groups).
        public var nodeCounts = [3, 5]
        public var kinds = FaultKind.onRealProcesses
        public var seed: UInt64 = 1
        /// Use network namespaces when the kernel allows them (required for network faults).
        public var namespaces = true
        public var electionTimeout: Duration = .milliseconds(300)
        public var heartbeatInterval: Duration = .milliseconds(50)
        /// `--lease-duration` of every Raft node (`nil`: the longest the election timeout allows).
        public var leaseDuration: Duration?
        /// The `ballot` executable run as `ballot serve`.
        public var binary: String
        /// Where node data and logs go (a fresh subdirectory per cluster).
        public var workDirectory: String
        public var bounds = HistoryChecker.Bounds()
        /// How the nodes authenticate each other. The intruder kinds need authentication (TLS for
        /// the certificate intruders) and are left out of runs without it.
        public var peerSecurity = PeerSecurity.tlsAndSecret
        /// `raft`, or `etcd`/`zookeeper`: the nodes are then elected through a real service of
        /// `servers` members, with `validity` as lease TTL or session timeout (and as the "election
        /// timeout" that sizes the faults).
        public var backend = "raft"
        public var servers = 3
        public var validity: Duration = .seconds(2)
        public init(binary: String, workDirectory: String) {
            self.binary = binary
            self.workDirectory = workDirectory
        }
    }

    public struct Report: Sendable {
        /// Faults asked for (``Options/faults``).
        public var requestedFaults = 0
        public var faultsByKind: [FaultKind: Int] = [:]
        public var faultsByClusterSize: [Int: Int] = [:]
        /// What each cluster's timeline shows about its faults: elections after them, probes during them.
        public var tallyByClusterSize: [Int: FaultTally] = [:]
        public var violations: [HistoryChecker.Violation] = []
        /// Milliseconds from each heal until every running node named one leader holding its lease.
        public var recoveryMilliseconds: [Double] = []
        /// Heals after which no stable leader was seen within the bound: each one fails the run.
        public var unrecovered = 0
        /// Why network namespaces (and so the network faults) were skipped, if they were.
        public var namespaceSkipReason: String?
        /// Whether that skip was asked for (`--no-namespaces`) rather than forced by the machine.
        public var namespaceSkipRequested = false
        /// Whether the clusters ran in network namespaces (only when a network fault was asked for).
        public var usedNamespaces = false
        public var delayMethod = "-"
        public var seconds = 0.0

        public init() {}

        public var totalFaults: Int { faultsByKind.values.reduce(0, +) }

        /// Every cluster's tally added up.
        public var tally: FaultTally { tallyByClusterSize.values.reduce(FaultTally(), +) }

        /// Why this run fails: a violation of a checked property, a heal without recovery, or a
        /// result that proves nothing (no faults injected, fewer than asked, no election after the
        /// faults, a leader stopped without an election following, nothing observed while a fault
        /// held, network faults skipped without being asked to). Empty for a run that passed.
        public var failures: [String] {
            var failures: [String] = []
            if !violations.isEmpty { failures.append("\(violations.count) violations of the checked properties") }
            if unrecovered > 0 {
                failures.append("\(unrecovered) heals after which no stable leader came within the recovery bound")
            }
            if totalFaults == 0 {
                failures.append("no fault was injected")
            } else if totalFaults < requestedFaults {
                failures.append("only \(totalFaults) of the \(requestedFaults) faults asked for were injected")
            }
            if let namespaceSkipReason, !namespaceSkipRequested {
                failures.append("network faults were skipped (\(namespaceSkipReason)); pass --no-namespaces or "
                                + "--kinds kill,pause to run without them on purpose")
            }
            let total = tally
            if totalFaults > 0 && total.electionsAfterFaults == 0 { failures.append("no election after a fault began") }
            if totalFaults > 0 && total.probesDuringFaults == 0 { failures.append("no probe was answered while a fault held") }
            for size in tallyByClusterSize.keys.sorted() {
                let tally = tallyByClusterSize[size]!
                if !tally.faultsWithoutElection.isEmpty {
                    failures.append("\(size) nodes: the leader was stopped but no election followed in faults "
                                    + Self.numbers(tally.faultsWithoutElection))
                }
                if !tally.unobservedFaults.isEmpty {
                    failures.append("\(size) nodes: no probe was answered while faults \(Self.numbers(tally.unobservedFaults)) held")
                }
                if !tally.unhealedFaults.isEmpty {
                    failures.append("\(size) nodes: faults \(Self.numbers(tally.unhealedFaults)) were never healed")
                }
            }
            return failures
        }

        static func numbers(_ faults: [Int]) -> String { faults.map { "#\($0)" }.joined(separator: ", ") }

        /// A few lines for humans and for docs/reliability.md.
        public var summary: String {
            var lines: [String] = []
            let kinds = FaultKind.allCases.compactMap { kind in faultsByKind[kind].map { "\(kind.rawValue)=\($0)" } }
            lines.append("faults injected: \(totalFaults) (\(kinds.joined(separator: " ")))")
            let sizes = faultsByClusterSize.keys.sorted().map { "\($0) nodes: \(faultsByClusterSize[$0]!)" }
            lines.append("by cluster size: \(sizes.joined(separator: ", "))")
            let total = tally
            lines.append("elections after faults began: \(total.electionsAfterFaults) (observed in all: \(total.electionsObserved))")
            let sorted = recoveryMilliseconds.sorted()
            if !sorted.isEmpty {
                let median = sorted[sorted.count / 2]
                let p99 = sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))]
                lines.append(String(format: "recovery after heal: median %.0f ms, p99 %.0f ms, max %.0f ms, unrecovered %d",
                                    median, p99, sorted.last!, unrecovered))
            } else {
                lines.append("recovery after heal: none measured, unrecovered \(unrecovered)")
            }
            lines.append("leadership probes answered while faults held: \(total.probesDuringFaults) (in all: \(total.probes))")
            let placement = namespaceSkipReason.map { "SKIPPED (\($0)): network faults NOT run" }
                ?? (usedNamespaces ? "used; delay via \(delayMethod)" : "not needed (process faults only, loopback)")
            lines.append("network namespaces: \(placement)")
            lines.append("violations: \(violations.count)")
            for violation in violations.prefix(20) { lines.append("  \(violation)") }
            let failures = failures
            lines.append(failures.isEmpty ? "result: PASSED" : "result: FAILED")
            for failure in failures { lines.append("  \(failure)") }
            lines.append(String(format: "duration: %.0f s", seconds))
            return lines.joined(separator: "\n")
        }
    }

    /// The banner printed when network faults cannot run.
    public static func skipBanner(_ reason: String) -> String {
        let bar = String(repeating: "#", count: 78)
        return """
            \(bar)
            ##  NETWORK FAULTS SKIPPED — NOT RUN, NOT PASSED
            ##  network namespaces are unavailable: \(reason)
            ##  only process faults (kill, pause) were injected
            \(bar)
            """
    }

    /// Runs the whole suite. `log` gets one line per fault and per cluster.
    /// The lab member the coordination service runs as (its namespace and address, 10.213.0.110).
    public static let serviceNode: UInt64 = 100

    public static func run(_ options: Options, log: @escaping @Sendable (String) -> Void = { print($0) }) async throws -> Report {
        let started = ContinuousClock.now
        var report = Report()
        report.requestedFaults = options.faults
        var random = SplitMix64(seed: options.seed)
        var kinds = options.kinds.filter { $0.applies(to: options.backend) }
        if options.kinds.contains(where: \.needsNetwork) {
            let reason = options.namespaces ? await NetworkLab.unavailableReason() : "disabled by --no-namespaces"
            if let reason {
                report.namespaceSkipReason = reason
                report.namespaceSkipRequested = !options.namespaces
                log(skipBanner(reason))
                kinds = kinds.filter { !$0.needsNetwork }
            }
        }
        let applicable = kinds.filter { IntruderFaults.applies($0, to: options.peerSecurity) }
        if applicable.count < kinds.count {
            log("(intruders left out: \(kinds.filter { !applicable.contains($0) }.map(\.rawValue).joined(separator: ",")) "
                + "need peer authentication that --peer-security \(options.peerSecurity) does not give)")
            kinds = applicable
        }
        guard !kinds.isEmpty else { return report }
        let useNamespaces = report.namespaceSkipReason == nil && kinds.contains(where: \.needsNetwork)
        if useNamespaces { await NetworkLab.removeStale() }
        report.usedNamespaces = useNamespaces
        let sizes = options.nodeCounts
        guard sizes.allSatisfy({ $0 >= 3 }) else {
            throw Subprocess.Failure(description: "fault runs need clusters of at least 3 nodes, got \(sizes)")
        }
        for (position, size) in sizes.enumerated() {
            let share = options.faults / sizes.count + (position < options.faults % sizes.count ? 1 : 0)
            guard share > 0 else { continue }
            let run = try await runCluster(size: size, faults: share, kinds: kinds, namespaces: useNamespaces,
                                           options: options, random: &random, log: log)
            for (kind, count) in run.faultsByKind { report.faultsByKind[kind, default: 0] += count }
            report.faultsByClusterSize[size, default: 0] += run.totalFaults
            report.tallyByClusterSize[size] = (report.tallyByClusterSize[size] ?? FaultTally()) + run.tally
            report.violations += run.violations
            report.recoveryMilliseconds += run.recoveryMilliseconds
            report.unrecovered += run.unrecovered
            report.delayMethod = run.delayMethod
        }
        report.seconds = (ContinuousClock.now - started).milliseconds / 1000
        return report
    }

    /// One cluster of `size` nodes: start, inject `faults` faults, stop, tear down, check.
    static func runCluster(size: Int, faults: Int, kinds: [FaultKind], namespaces: Bool, options: Options,
                           random: inout SplitMix64, log: @escaping @Sendable (String) -> Void) async throws -> Report {
        var report = Report()
        let ids = (1...UInt64(size)).map { $0 }
        let usesService = options.backend != "raft"
        // The coordination service runs in a namespace of its own, so a node can be cut off from it.
        let serviceNode: UInt64? = usesService && namespaces ? FaultSuite.serviceNode : nil
        let lab = namespaces ? NetworkLab(nodes: ids + (serviceNode.map { [$0] } ?? [])) : nil
        let directory = "\(options.workDirectory)/cluster\(size)-\(UInt32.random(in: 0...UInt32.max))"
        var settings = FaultCluster.Settings()
        settings.nodes = size
        settings.electionTimeout = options.electionTimeout
        settings.heartbeatInterval = options.heartbeatInterval
        settings.leaseDuration = usesService ? nil : options.leaseDuration
        // Backend nodes have no peer port: nothing for peer credentials to protect.
        settings.peerSecurity = usesService ? .insecure : options.peerSecurity
        let placement: FaultCluster.Placement
        if let lab {
            try await lab.setUp()
            placement = .namespaces(lab)
            report.delayMethod = lab.hasNetem ? "tc netem" : "tc tbf throttle (no sch_netem in this kernel)"
        } else {
            let peerBase = LoopbackPorts.consecutiveFree(size, from: Int.random(in: 20_000...50_000))
            placement = .loopback(peerBasePort: peerBase,
                                  httpBasePort: LoopbackPorts.consecutiveFree(size, from: peerBase + size))
        }
        var service: CoordinationService?
        if usesService {
            do {
                if let lab, let serviceNode {
                    service = try await CoordinationService.start(options.backend, servers: options.servers,
                                                                  namespace: lab.namespace(of: serviceNode),
                                                                  host: lab.address(of: serviceNode))
                } else {
                    service = try await CoordinationService.start(options.backend, servers: options.servers)
                }
            } catch {
                await lab?.tearDown()
                throw error
            }
            settings.backend = options.backend
            let milliseconds = "\(Int(options.validity.milliseconds))ms"
            settings.backendArguments = (service?.nodeArguments ?? []) + ["--election", "faults"]
                + (options.backend == "etcd" ? ["--lease-ttl", "\(Int(options.validity.seconds))s"] : ["--session-timeout", milliseconds])
        }
        let cluster = FaultCluster(settings: settings, placement: placement, binary: options.binary, dataDirectory: directory,
                                   service: service, serviceNode: serviceNode)
        log("==> \(size) nodes, \(faults) faults, \(lab.map { "namespaces \($0.runID)" } ?? "loopback")"
            + (service.map { ", \(options.backend) with \($0.serverCount) server\($0.serverCount == 1 ? "" : "s")" }
                ?? ", peers: \(options.peerSecurity)"))
        var forcingElection = Set<Int>()
        do {
            try cluster.startAll()
            let injector = FaultInjector(cluster: cluster, options: options, log: log)
            guard await cluster.waitForStableLeader(timeout: .seconds(20)) != nil else {
                throw Subprocess.Failure(description: "no leader within 20 s of start\n\(cluster.logs())")
            }
            for number in 0..<faults {
                let kind = kinds[Int(random.next() % UInt64(kinds.count))]
                guard let outcome = try await injector.inject(kind, number: number, random: &random) else { continue }
                report.faultsByKind[kind, default: 0] += 1
                if outcome.forcesElection { forcingElection.insert(number) }
                if let recovered = outcome.recoveryMilliseconds {
                    report.recoveryMilliseconds.append(recovered)
                } else {
                    report.unrecovered += 1
                }
            }
        } catch {
            await cluster.stopAll()
            await service?.stop()
            await lab?.tearDown()
            throw error
        }
        await cluster.stopAll()
        await service?.stop()
        await lab?.tearDown()
        let events = cluster.timeline.events
        let checker = HistoryChecker(bounds: options.bounds)
        report.violations = checker.check(events, endedAt: SystemMonotonicClock.now.nanoseconds)
        report.tallyByClusterSize[size] = FaultTally.tally(events, forcingElection: forcingElection)
        report.faultsByClusterSize[size] = report.totalFaults
        if report.violations.isEmpty && report.unrecovered == 0 {
            try? FileManager.default.removeItem(atPath: directory)
        } else {
            let dump = events.map { "\($0)" }.joined(separator: "\n")
            try? dump.write(toFile: "\(directory)/timeline.txt", atomically: true, encoding: .utf8)
            log("!! \(report.violations.count) violations, \(report.unrecovered) unrecovered heals; "
                + "timeline and node logs kept in \(directory)")
        }
        return report
    }
}
