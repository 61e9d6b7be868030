import BallotClient
import BallotCore
import BallotHarness
import Foundation
import Glibc
import Testing

/// Issue 16, item 12: the two maintenance runbooks of docs/operations.md, followed step by step on
/// real processes — "Replacing a failed host" and "Rolling upgrade" — while the nodes' own lease
/// lines (`--events`) show, on CLOCK_MONOTONIC, when some node held a leader lease. The cluster may
/// never be without a lease holder for longer than one failover.
///
/// Default timing (election timeout T = 1s, heartbeat 100ms), as in production, so that a node's
/// restart (well under T) fits the margins the runbooks rely on. One failover is bounded by 3T:
/// a follower notices within 2T (its longest timeout) and one campaign ends within T.
@Suite(.serialized) struct RunbookTests {
    static let electionTimeout = Duration.seconds(1)
    static let oneFailover = electionTimeout * 3

    @Test(arguments: ["moved", "fresh"])
    func replacingAFailedHostKeepsALeader(state: String) async throws {
        let cluster = try RunbookCluster()
        defer { cluster.stopAll() }
        for id in cluster.ids { try cluster.start(id) }
        let first = try #require(await cluster.waitForLeader(timeout: .seconds(20)), "no first leader")
        let measureFrom = RunbookCluster.monotonicNow()

        // The host of the leader (the harder case: its failure is a failover) dies for good.
        let failed = try #require(NodeID(first.self_))
        if state == "fresh" {
            // Enforced: while the old process still runs, recovery refuses (two processes, one ID).
            let refused = try await runBallot(cluster.recoverArguments(for: failed, dataDirectory: temporaryDirectory("unused")))
            #expect(refused.status != 0 && refused.stderr.contains("still have a connection"), "\(refused.stderr)")
        }
        cluster.kill(failed)

        // Step 1: the survivors elect a leader (one failover) and show the lost node disconnected.
        let survivors = (1...3).map { NodeID(UInt64($0))! }.filter { $0 != failed }
        let next = try #require(await cluster.waitForLeader(timeout: .seconds(20)), "no leader after the host failed")
        #expect(next.self_ != failed.rawValue)

        // Step 2: the new host's data directory: the old hard state moved, or recovered from the survivors.
        let newDirectory = cluster.directory + "/node\(failed)-new-host"
        try FileManager.default.createDirectory(atPath: newDirectory, withIntermediateDirectories: true)
        let oldFile = cluster.dataDirectory(failed) + "/hard-state"
        if state == "moved" {
            try FileManager.default.copyItem(atPath: oldFile, toPath: newDirectory + "/hard-state")
        } else {
            // Enforced: every other member must answer, and the directory must be empty.
            let partial = try await runBallot(
                cluster.recoverArguments(for: failed, dataDirectory: newDirectory, only: [survivors[0]]))
            #expect(partial.status != 0 && partial.stderr.contains("no answer for node(s) \(survivors[1])"), "\(partial.stderr)")
            let recovered = try await runBallot(cluster.recoverArguments(for: failed, dataDirectory: newDirectory))
            #expect(recovered.status == 0, "recover-state failed: \(recovered.stderr)")
            let again = try await runBallot(cluster.recoverArguments(for: failed, dataDirectory: newDirectory))
            #expect(again.status != 0 && again.stderr.contains("was not lost"), "\(again.stderr)")
        }

        // Step 3: start the node with the same ID on the new host (a new peer port and HTTP port).
        let highest = try await survivors.asyncMap { try await cluster.status(of: $0).term }.max() ?? 0
        try cluster.moveToNewAddress(failed, dataDirectory: newDirectory)
        try cluster.start(failed)
        let replaced = try await cluster.status(of: failed, waitingUpTo: .seconds(20))
        if state == "fresh" {
            // Its vote in the survivors' highest term is already cast: no second vote in any old term.
            #expect(replaced.term >= highest && (replaced.term > highest || replaced.votedFor == failed.rawValue),
                    "recovered node at term \(replaced.term), vote \(String(describing: replaced.votedFor)); survivors' highest \(highest)")
        }

        // Step 4: one survivor at a time, followers first, the leader last: restart it with the new
        // peer address, and wait until it is ready before the next.
        try await cluster.rollingRestart(survivors)

        // Step 5: the replaced node follows the leader at its new address.
        let final = try #require(await cluster.waitForLeader(timeout: .seconds(20)))
        let view = try await cluster.status(of: failed)
        #expect(view.leader == final.self_ && (view.lastContactMs ?? .infinity) < 1_000 || view.isLeader,
                "the replaced node: \(view.role), leader \(String(describing: view.leader)), last contact \(String(describing: view.lastContactMs))")
        for id in survivors {
            let peer = try await cluster.status(of: id).peers.first { $0.id == failed.rawValue }
            #expect(peer?.connected == true, "node \(id) has no connection to the replaced node's new address")
        }

        try cluster.expectNoLongLeaderlessInterval(from: measureFrom, bound: Self.oneFailover)
    }

    @Test func aRollingUpgradeKeepsALeader() async throws {
        let cluster = try RunbookCluster()
        defer { cluster.stopAll() }
        for id in cluster.ids { try cluster.start(id) }
        let first = try #require(await cluster.waitForLeader(timeout: .seconds(20)))
        let measureFrom = RunbookCluster.monotonicNow()

        // The documented procedure, with `ballot serve` replaced by the `ballotd` binary.
        let upgraded = try ballotdBinary()
        let order = (1...3).map { NodeID(UInt64($0))! }
        try await cluster.rollingRestart(order, binary: upgraded)

        let upgradedPath = URL(fileURLWithPath: upgraded).resolvingSymlinksInPath().path
        for id in order {
            let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(cluster.pid(id) ?? 0)/exe")
            #expect(executable == upgradedPath, "node \(id) runs \(executable)")
        }
        let final = try #require(await cluster.waitForLeader(timeout: .seconds(20)))
        // Followers first, leader last: leadership moved once, by the last restart's hand-over.
        #expect(final.self_ != first.self_, "the old leader's restart hands leadership over")
        let changes = cluster.leadersSince(measureFrom)
        #expect(changes.count <= 1, "leaders elected during the upgrade: \(changes)")
        try cluster.expectNoLongLeaderlessInterval(from: measureFrom, bound: Self.oneFailover)
    }
}

/// Three nodes on loopback whose address and binary can change between restarts, as in the
/// runbooks, recording every event line the processes print.
final class RunbookCluster: @unchecked Sendable {
    let directory = temporaryDirectory("runbook")
    private let ports: [Int]
    private let lock = NSLock()
    private var lines: [String] = []
    /// Per node: its current peer port, HTTP port, data directory and binary (nil: `ballot serve`).
    private var peerPort: [NodeID: Int] = [:]
    private var httpPort: [NodeID: Int] = [:]
    private var data: [NodeID: String] = [:]
    private var binary: [NodeID: String] = [:]
    private var processes: [NodeID: NodeProcess] = [:]
    /// When each process ended (killed or stopped), on CLOCK_MONOTONIC: its lease ends there at the latest.
    private var ended: [NodeID: [UInt64]] = [:]
    let ids = (1...3).map { NodeID(UInt64($0))! }

    init() throws {
        // Three peer and three HTTP ports, and one of each for the replacement's new address.
        let base = LoopbackPorts.consecutiveFree(8, from: Int.random(in: 20_000...50_000))
        ports = Array(base..<(base + 8))
        for id in ids {
            let index = Int(id.rawValue) - 1
            peerPort[id] = ports[index]
            httpPort[id] = ports[3 + index]
            data[id] = directory + "/node\(id)"
        }
    }

    static func monotonicNow() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    func dataDirectory(_ id: NodeID) -> String { lock.withLock { data[id]! } }
    func pid(_ id: NodeID) -> Int32? { lock.withLock { processes[id] }?.pid }

    /// The node's new host: the spare peer and HTTP ports, and the new data directory.
    func moveToNewAddress(_ id: NodeID, dataDirectory: String) throws {
        lock.withLock {
            peerPort[id] = ports[6]
            httpPort[id] = ports[7]
            data[id] = dataDirectory
        }
    }

    /// Starts node `id` with the current addresses of every member (what its flags would say).
    func start(_ id: NodeID) throws {
        let (arguments, executable, process) = try lock.withLock { () throws -> ([String], String, NodeProcess?) in
            var arguments = [
                "--id", "\(id)", "--listen", "127.0.0.1:\(peerPort[id]!)", "--http", "127.0.0.1:\(httpPort[id]!)",
                "--data-dir", data[id]!, "--cluster", "runbook", "--election-timeout", "1s", "--heartbeat-interval", "100ms",
                "--log-level", "warning", "--events",
            ]
            for peer in ids where peer != id { arguments += ["--peer", "\(peer)=127.0.0.1:\(peerPort[peer]!)"] }
            if let upgraded = binary[id] { return (arguments, upgraded, processes[id]) }
            return (["serve"] + arguments, try ballotBinary(), processes[id])
        }
        precondition(process?.isRunning != true, "node \(id) is already running")
        let node = NodeProcess(id: id, binary: executable, arguments: arguments, peerPort: 0, httpPort: 0,
                               dataDirectory: lock.withLock { data[id]! }) { [weak self] _, line in
            self?.lock.withLock { self?.lines.append(line) }
        }
        try node.start()
        lock.withLock { processes[id] = node }
    }

    /// The host dies: SIGKILL, and the process is gone for good.
    func kill(_ id: NodeID) {
        guard let process = lock.withLock({ processes[id] }) else { return }
        process.signal(SIGKILL)
        let at = Self.monotonicNow()
        lock.withLock { ended[id, default: []].append(at) }
        while process.isRunning { usleep(5_000) }
    }

    func stopAll() {
        for process in lock.withLock({ Array(processes.values) }) where process.isRunning {
            process.signal(SIGKILL)
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The runbook's restart loop: followers first, the leader last; each node stopped with SIGTERM
    /// (a leader hands over first), started again (with `binary`, if given) and waited for until
    /// `/readyz` answers 200 and it follows a leader, before the next one.
    func rollingRestart(_ nodes: [NodeID], binary upgraded: String? = nil) async throws {
        let leader = await currentLeader()
        let order = nodes.filter { $0.rawValue != leader?.self_ } + nodes.filter { $0.rawValue == leader?.self_ }
        for id in order {
            guard let process = lock.withLock({ processes[id] }) else { continue }
            await process.stop(grace: .seconds(10))
            let at = Self.monotonicNow()
            lock.withLock {
                ended[id, default: []].append(at)
                if let upgraded { binary[id] = upgraded }
            }
            try start(id)
            guard await waitUntilReady(id, timeout: .seconds(20)) else {
                throw HarnessError("node \(id) was not ready within 20 s after its restart:\n\(process.log.suffix(2000))")
            }
        }
    }

    func waitUntilReady(_ id: NodeID, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let response = try? await HTTPClient.request(.GET, host: "127.0.0.1", port: lock.withLock({ httpPort[id]! }), path: "/readyz"),
               response.status == 200 {
                return true
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// `/status` of a node just started: asked again (bounded) until its endpoint listens.
    func status(of id: NodeID, waitingUpTo timeout: Duration) async throws -> NodeStatusReport {
        let deadline = ContinuousClock.now + timeout
        while true {
            do {
                return try await status(of: id)
            } catch where ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    func status(of id: NodeID) async throws -> NodeStatusReport {
        let target = HTTPTarget(address: try SocketAddressSpec(validatingHost: "127.0.0.1", port: lock.withLock { httpPort[id]! }))
        let response = try await HTTPClient.request(.GET, target, path: "/status")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(NodeStatusReport.self, from: Data(response.body))
    }

    /// The node that reports itself leader (lease-backed), if exactly one running node does.
    func currentLeader() async -> LeaderView? {
        var leaders: [LeaderView] = []
        for id in ids where lock.withLock({ processes[id]?.isRunning == true }) {
            let port = lock.withLock { httpPort[id]! }
            if let response = try? await HTTPClient.request(.GET, host: "127.0.0.1", port: port, path: "/leader", timeout: .milliseconds(500)),
               let view = try? JSONDecoder().decode(LeaderView.self, from: Data(response.body)), view.isLeader {
                leaders.append(view)
            }
        }
        return leaders.count == 1 ? leaders[0] : nil
    }

    func waitForLeader(timeout: Duration) async -> LeaderView? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let leader = await currentLeader() { return leader }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// `ballot recover-state` for `id` into `dataDirectory`, asking `only` (default: every other member).
    func recoverArguments(for id: NodeID, dataDirectory: String, only: [NodeID]? = nil) -> [String] {
        let others = only ?? ids.filter { $0 != id }
        return ["recover-state", "--id", "\(id)", "--cluster", "runbook", "--data-dir", dataDirectory]
            + others.flatMap { other in ["--http", "127.0.0.1:\(lock.withLock { httpPort[other]! })"] }
    }

    /// `elected` lines with self=true printed after `since`: one per leadership won.
    func leadersSince(_ since: UInt64) -> [String] {
        lock.withLock { lines }.compactMap(LeadershipEventLine.init(parsing:))
            .filter { $0.kind == .elected && $0.isSelf && $0.monotonicNanoseconds > since }
            .map { "node \($0.node) term \($0.term)" }
    }

    /// From the lease lines: the intervals after `from` in which no node held a leader lease, each
    /// at most `bound` long. A lease runs from its line's `from_ns` until its `until_ns`, the node's
    /// next lease line, or the end of its process, whichever comes first.
    func expectNoLongLeaderlessInterval(from: UInt64, bound: Duration, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let end = Self.monotonicNow()
        let (leases, endings) = lock.withLock { (lines.compactMap(LeaseEventLine.init(parsing:)), ended) }
        var held: [(UInt64, UInt64)] = []
        for node in Set(leases.map(\.node)) {
            let own = leases.filter { $0.node == node }.sorted { $0.monotonicNanoseconds < $1.monotonicNanoseconds }
            let exits = (endings[NodeID(node)!] ?? []).sorted()
            for (index, lease) in own.enumerated() {
                var until = lease.until ?? end
                if index + 1 < own.count { until = min(until, own[index + 1].from) }
                if let exit = exits.first(where: { $0 >= lease.monotonicNanoseconds }) { until = min(until, exit) }
                if until > lease.from { held.append((lease.from, until)) }
            }
        }
        held.sort { $0.0 < $1.0 }
        var gaps: [Duration] = []
        var covered = from
        for (start, stop) in held where stop > covered {
            if start > covered { gaps.append(.nanoseconds(Int64(start - covered))) }
            covered = max(covered, stop)
        }
        if end > covered { gaps.append(.nanoseconds(Int64(end - covered))) }
        let longest = gaps.max() ?? .zero
        print("runbook: \(gaps.count) leaderless interval(s), longest \(longest), bound \(bound): \(gaps.map { "\($0.milliseconds) ms" })")
        #expect(!held.isEmpty, "no lease lines: did the nodes run with --events?", sourceLocation: sourceLocation)
        #expect(longest <= bound, "leaderless for \(longest), more than one failover (\(bound)); intervals: \(gaps)",
                sourceLocation: sourceLocation)
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
