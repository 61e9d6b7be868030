import BallotBackends
import BallotCore
import BallotHarness
import BallotRuntime
import Foundation
import Logging
import Synchronization
import Testing

/// A real etcd cluster for a whole suite, started before its first test and stopped after its last.
struct SharedEtcd: SuiteTrait, TestScoping {
    let members: Int
    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        try await EtcdCluster.whileRunning(members: members) { cluster in
            try await Fixtures.$etcd.withValue(cluster) { try await function() }
        }
    }
}

/// A real ZooKeeper ensemble for a whole suite.
struct SharedZooKeeper: SuiteTrait, TestScoping {
    let servers: Int
    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        try await ZooKeeperEnsemble.whileRunning(servers: servers) { ensemble in
            try await Fixtures.$zooKeeper.withValue(ensemble) { try await function() }
        }
    }
}

extension Trait where Self == SharedEtcd {
    static func etcd(members: Int) -> Self { SharedEtcd(members: members) }
}

extension Trait where Self == SharedZooKeeper {
    static func zooKeeper(servers: Int) -> Self { SharedZooKeeper(servers: servers) }
}

enum Fixtures {
    @TaskLocal static var etcd: EtcdCluster?
    @TaskLocal static var zooKeeper: ZooKeeperEnsemble?
}

/// Counts what a backend reports, as the metrics recorder would.
final class CountingObserver: BackendObserver {
    let state = Mutex<(actions: [Action], failures: [CoordinationFailure], renewals: Int, connected: Bool)>(([], [], 0, false))
    func executed(_ actions: [Action], at instant: MonotonicInstant) { state.withLock { $0.actions += actions } }
    func coordinationRenewed(after roundTrip: Duration) { state.withLock { $0.renewals += 1 } }
    func coordinationConnected(_ connected: Bool) { state.withLock { $0.connected = connected } }
    func coordinationFailed(_ failure: CoordinationFailure) { state.withLock { $0.failures.append(failure) } }
    var failures: [CoordinationFailure] { state.withLock { $0.failures } }
    var actions: [Action] { state.withLock { $0.actions } }
}

/// A backend running in this process, with its view and observer, until ``stop(resign:)``.
final class RunningBackend: Sendable {
    let backend: any ElectionBackend
    let observer: CountingObserver
    let task: Task<Void, any Error>
    var view: LeadershipView { backend.view }
    var node: NodeID { backend.view.node }

    init(_ backend: any ElectionBackend, observer: CountingObserver) {
        self.backend = backend
        self.observer = observer
        task = Task { try await backend.run() }
    }

    /// Resigns (with `resign`) and ends the backend's task.
    func stop(resign: Bool = true) async {
        if resign { await backend.shutDown() }
        task.cancel()
        _ = await task.result
    }

    func isLeader() -> Bool { view.current.isLeader(at: SystemMonotonicClock.now) }
}

let testLogger: Logger = {
    var logger = Logger(label: "ballot.backends.test")
    logger.logLevel = ProcessInfo.processInfo.environment["BALLOT_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
    return logger
}()

/// A fresh election name for one test.
func freshElection(_ name: String) throws -> ElectionName {
    try ElectionName("\(name)-\(UInt32.random(in: 0...UInt32.max))")
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
func eventually(within timeout: Duration = .seconds(30), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}

/// The one backend among `nodes` that claims leadership now, if exactly one does.
func soleLeader(_ nodes: [RunningBackend]) -> RunningBackend? {
    let leaders = nodes.filter { $0.isLeader() }
    return leaders.count == 1 ? leaders[0] : nil
}

/// Every lease each view announced, as (node, from, until) intervals on the shared clock.
final class LeaseLog: Sendable {
    let intervals = Mutex<[UInt64: [(from: MonotonicInstant, until: MonotonicInstant?)]]>([:])

    func follow(_ view: LeadershipView) {
        let node = view.node.rawValue
        view.addListener { event in
            guard case .lease(let change, _) = event else { return }
            self.intervals.withLock { all in
                var list = all[node] ?? []
                if let last = list.last, last.until.map({ $0 > change.at }) ?? true { list[list.count - 1].until = change.at }
                if !change.ends { list.append((change.at, change.until)) }
                all[node] = list
            }
        }
    }

    /// Pairs of different nodes whose claims overlapped, with the overlap.
    func overlaps(endingAt end: MonotonicInstant) -> [(UInt64, UInt64, Duration)] {
        let all = intervals.withLock { $0 }
        var flat: [(node: UInt64, from: MonotonicInstant, until: MonotonicInstant)] = []
        for (node, list) in all { for interval in list { flat.append((node, interval.from, min(interval.until ?? end, end))) } }
        var found: [(UInt64, UInt64, Duration)] = []
        for (i, a) in flat.enumerated() {
            for b in flat[(i + 1)...] where a.node != b.node {
                let overlap = min(a.until, b.until) - max(a.from, b.from)
                if overlap > .zero { found.append((a.node, b.node, overlap)) }
            }
        }
        return found
    }
}
