import BallotChildRun
import BallotCore
import BallotRuntime
import BallotSimulation
import Foundation
import Glibc

/// `etcdctl lock` measured with the sidecar suite's writer and faults (`ballot bench lock`): a real
/// etcd server on loopback (its own data directory), several `etcdctl lock NAME -- <writer>`
/// contenders, and SIGKILL or SIGSTOP of the contender holding the lock. Each trial reports the time
/// two writers ran at once (overlap) and the time none ran (gap), from the writers' own records.
///
/// `etcdctl lock` runs its command and waits for it; it does not watch its session, so a holder
/// that dies or stops leaves its writer running while the next holder starts its own. The harness
/// lets both run for ``Options/observe`` and then kills the old writer itself (that overlap is
/// reported as censored: it would not have ended on its own).
public enum EtcdLockBenchmark {
    public struct Options: Sendable {
        public var trials = 20
        /// `.crash` (SIGKILL of the holder's etcdctl, then a new contender) or `.pause` (SIGSTOP for
        /// ``pauseFor``, then SIGCONT).
        public var fault: FaultKind = .crash
        public var contenders = 3
        /// etcd's own timing, as Ballot's fault suite: heartbeat 50 ms, election timeout 300 ms.
        public var heartbeatMilliseconds = 50
        public var electionMilliseconds = 300
        /// The session TTL of `etcdctl lock --ttl` (etcd's minimum with the timing above rounds up to 1 s).
        public var ttlSeconds = 1
        public var pauseFor: Duration = .seconds(3)
        /// How long both writers are watched after the new one started.
        public var observe: Duration = .seconds(2)
        public var seed: UInt64 = 1
        /// The `ballot` executable; the writer, `ballot-writer`, is the one in its directory.
        public var binary: String
        public var workDirectory: String

        public init(binary: String, workDirectory: String) {
            self.binary = binary
            self.workDirectory = workDirectory
        }
    }

    public struct Trial: Sendable {
        public var fault: FaultKind
        /// From the fault to the new writer's first stamp.
        public var takeoverMilliseconds: Double
        public var overlapMilliseconds: Double
        /// The old writer was still running when the harness killed it.
        public var overlapCensored: Bool
        public var gapMilliseconds: Double
    }

    public static func run(_ options: Options, log: @escaping @Sendable (String) -> Void) async throws -> [Trial] {
        guard let etcd = Subprocess.locate("etcd"), let etcdctl = Subprocess.locate("etcdctl") else {
            throw Subprocess.Failure(description: "etcd and etcdctl are needed: apt-get install etcd-server etcd-client")
        }
        let writer = try ChildRun.writer(nextTo: options.binary)
        try? FileManager.default.removeItem(atPath: options.workDirectory)
        let records = "\(options.workDirectory)/records"
        try FileManager.default.createDirectory(atPath: records, withIntermediateDirectories: true)
        let ports = LoopbackPorts.consecutiveFree(2, from: Int.random(in: 30_000...50_000))
        let client = "http://127.0.0.1:\(ports)"
        let peer = "http://127.0.0.1:\(ports + 1)"
        let server = NodeProcess(
            id: 1, binary: etcd,
            arguments: ["--name", "m1", "--data-dir", "\(options.workDirectory)/etcd", "--listen-client-urls", client,
                        "--advertise-client-urls", client, "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                        "--initial-cluster", "m1=\(peer)", "--initial-cluster-token", "ballot-bench-lock",
                        "--heartbeat-interval", "\(options.heartbeatMilliseconds)",
                        "--election-timeout", "\(options.electionMilliseconds)", "--logger", "zap", "--log-outputs", "stderr"],
            peerPort: ports + 1, httpPort: ports, dataDirectory: "\(options.workDirectory)/etcd-server") { _, _ in }
        try server.start()
        var contenders: [NodeProcess] = []
        var next = 0
        func contender() throws -> NodeProcess {
            next += 1
            let process = NodeProcess(
                id: NodeID(UInt64(next))!, binary: etcdctl,
                arguments: ["--endpoints", client, "lock", "--ttl", "\(options.ttlSeconds)", "ballot-bench", "--",
                            writer, "--record", records, "--node", "\(next)",
                            "--term-variable", "ETCD_LOCK_REV", "--ignore-sigterm"],
                peerPort: 0, httpPort: 0, dataDirectory: "\(options.workDirectory)/etcdctl\(next)") { _, _ in }
            try process.start()
            return process
        }
        var trials: [Trial] = []
        do {
            for _ in 0..<options.contenders { contenders.append(try contender()) }
            var random = SplitMix64(seed: options.seed)
            for number in 0..<options.trials {
                contenders.removeAll { !$0.isRunning }
                while contenders.count < options.contenders { contenders.append(try contender()) }
                guard let (holder, old) = try await waitForSingleWriter(contenders, records: records, timeout: .seconds(30)) else {
                    throw Subprocess.Failure(description: "no single writer within 30 s\n\(server.log.suffix(1500))")
                }
                // A random point within the session's keep-alive period.
                try await Task.sleep(for: .milliseconds(Int64(random.next() % UInt64(options.ttlSeconds * 1000 / 3 + 1))))
                // Read before the fault: a killed holder is reaped, and its PID forgotten, at once.
                let holderPID = holder.pid ?? 0
                let faultAt = SystemMonotonicClock.now.nanoseconds
                holder.signal(options.fault == .crash ? SIGKILL : SIGSTOP)
                let deadline = ContinuousClock.now + .seconds(Int64(30 * options.ttlSeconds))
                var successor: ChildRun?
                while successor == nil && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(5))
                    successor = try ChildRun.load(from: records).first { $0.first > faultAt && $0.pid != old.pid }
                }
                guard let successor else {
                    let logs = contenders.map { "--- etcdctl \($0.id) (\($0.isRunning ? "running" : "exited")) ---\n\($0.log.suffix(600))" }
                    throw Subprocess.Failure(description: """
                        trial \(number): no new holder's writer within \(30 * options.ttlSeconds) s of the fault; \
                        the holder was etcdctl \(holderPID), its writer \(old)
                        \(logs.joined(separator: "\n"))
                        --- etcd ---
                        \(server.log.suffix(1500))
                        """)
                }
                try await Task.sleep(for: options.observe)
                let now = SystemMonotonicClock.now.nanoseconds
                var oldRun = try ChildRun.load(from: records).first { $0.pid == old.pid && $0.first == old.first } ?? old
                let censored = oldRun.last + 50_000_000 > now
                if censored { killWriter(oldRun) }
                if options.fault == .pause {
                    let elapsed = Duration.nanoseconds(Int64(SystemMonotonicClock.now.nanoseconds - faultAt))
                    if elapsed < options.pauseFor { try await Task.sleep(for: options.pauseFor - elapsed) }
                    holder.signal(SIGCONT)
                }
                let runs = try ChildRun.load(from: records).filter { $0.last >= faultAt }
                oldRun = runs.first { $0.pid == old.pid && $0.first == old.first } ?? oldRun
                let successorRun = runs.first { $0.pid == successor.pid && $0.first == successor.first } ?? successor
                let overlap = ChildHistoryChecker.overlapTime([oldRun, successorRun], from: faultAt, to: .max)
                let gap = ChildHistoryChecker.idleTime(runs, from: faultAt, to: successor.first)
                let trial = Trial(fault: options.fault, takeoverMilliseconds: Double(successor.first - faultAt) / 1e6,
                                  overlapMilliseconds: Double(overlap) / 1e6, overlapCensored: censored,
                                  gapMilliseconds: Double(gap) / 1e6)
                trials.append(trial)
                log(String(format: "trial %3d: %@ of the holder (etcdctl pid %d): new writer after %.0f ms, overlap %.0f ms%@, gap %.1f ms",
                           number, (options.fault == .crash ? "SIGKILL" : "SIGSTOP") as NSString, holderPID,
                           trial.takeoverMilliseconds, trial.overlapMilliseconds,
                           (censored ? " (censored: the old writer never stopped; killed by the harness)" : "") as NSString,
                           trial.gapMilliseconds))
                if options.fault == .crash { holder.signal(SIGKILL) }
            }
        } catch {
            await shutDown(contenders, server: server, records: records)
            throw error
        }
        await shutDown(contenders, server: server, records: records)
        return trials
    }

    /// Waits until exactly one writer runs; returns its etcdctl (the writer's parent) and its record.
    static func waitForSingleWriter(_ contenders: [NodeProcess], records: String, timeout: Duration) async throws
        -> (NodeProcess, ChildRun)?
    {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let now = SystemMonotonicClock.now.nanoseconds
            let running = try ChildRun.load(from: records).filter { $0.last + 20_000_000 > now }
            if running.count == 1, let holder = contenders.first(where: { $0.pid == running[0].parent }) {
                return (holder, running[0])
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// SIGKILL to a writer the harness started, after checking the PID still is one.
    static func killWriter(_ run: ChildRun) {
        let command = (try? String(contentsOfFile: "/proc/\(run.pid)/cmdline", encoding: .utf8)) ?? ""
        if command.contains(ChildRun.writerName) { kill(run.pid, SIGKILL) }
    }

    static func shutDown(_ contenders: [NodeProcess], server: NodeProcess, records: String) async {
        for contender in contenders {
            contender.signal(SIGCONT)
            contender.signal(SIGKILL)
        }
        for run in (try? ChildRun.load(from: records)) ?? [] { killWriter(run) }
        await server.stop(grace: .seconds(5))
    }

    /// The figures for docs/applications.md.
    public static func summary(_ trials: [Trial]) -> String {
        guard !trials.isEmpty else { return "no trials" }
        let overlap = trials.map(\.overlapMilliseconds).sorted()
        let gap = trials.map(\.gapMilliseconds).sorted()
        let takeover = trials.map(\.takeoverMilliseconds).sorted()
        let censored = trials.count { $0.overlapCensored }
        return String(format: """
            etcdctl lock, %@ of the holder: %d trials
            overlap (two writers at once): median %.0f ms, max %.0f ms; trials with overlap: %d; censored (old writer never stopped): %d
            gap (no writer running): median %.1f ms, p99 %.1f ms, max %.1f ms
            new holder's writer after the fault: median %.0f ms, max %.0f ms
            """, (trials[0].fault == .crash ? "SIGKILL" : "SIGSTOP") as NSString, trials.count,
            percentile(overlap, 0.5), overlap.last!, trials.count { $0.overlapMilliseconds > 0 }, censored,
            percentile(gap, 0.5), percentile(gap, 0.99), gap.last!, percentile(takeover, 0.5), takeover.last!)
    }
}
