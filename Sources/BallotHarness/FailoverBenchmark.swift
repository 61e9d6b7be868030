import BallotSimulation
import BallotRuntime
import BallotCore
import BallotClient
import Foundation
import Glibc

/// Measures failover of a real local cluster: fail the leader at a random point of its heartbeat
/// interval, time the election from the nodes' own event lines (no polling of the nodes during the
/// measurement), restore the node, wait until it has rejoined, repeat.
public final class FailoverBenchmark: @unchecked Sendable {
    public struct Trial: Sendable {
        public var oldLeader: UInt64
        public var newLeader: UInt64
        /// From the fault to the first survivor that leads, in milliseconds.
        public var firstLeaderMs: Double
        /// From the fault until every survivor knows the new leader, in milliseconds.
        public var allKnowMs: Double
        /// Terms the failover took (1 = elected at the first attempt). For an etcd or ZooKeeper
        /// backend the term is a fencing token (a revision, a zxid), so this counts its growth.
        public var terms: UInt64
        /// What ``FailoverBenchmark/trafficProbe`` counted from just before the fault until every
        /// survivor knew the new leader, and how long that window was.
        public var traffic: Traffic?
        public var trafficSeconds: Double?
    }

    /// Cumulative message and byte counters of whatever carries the election (Ballot's peer protocol
    /// or the coordination service), read at two instants.
    /// Counters are kept per source (a node, or the whole service), and a difference takes only the
    /// sources present at both instants: a killed node's counters vanish with it.
    public struct Traffic: Sendable {
        public var bySource: [UInt64: Counters]
        public struct Counters: Sendable {
            public var messages: Double
            public var bytes: Double
            public init(messages: Double, bytes: Double) {
                self.messages = messages
                self.bytes = bytes
            }
        }
        public init(bySource: [UInt64: Counters]) { self.bySource = bySource }
        public var messages: Double { bySource.values.reduce(0) { $0 + $1.messages } }
        public var bytes: Double { bySource.values.reduce(0) { $0 + $1.bytes } }
        public static func - (a: Traffic, b: Traffic) -> Traffic {
            var difference: [UInt64: Counters] = [:]
            for (source, after) in a.bySource {
                guard let before = b.bySource[source] else { continue }
                difference[source] = Counters(messages: after.messages - before.messages, bytes: after.bytes - before.bytes)
            }
            return Traffic(bySource: difference)
        }
    }

    let cluster: LocalCluster
    /// `.crash` (SIGKILL, then a restart from the same data directory) or `.pause` (SIGSTOP for several
    /// election timeouts, then SIGCONT: a silent failure, no closed connection).
    let fault: FaultKind
    let heartbeat: Duration
    let electionTimeout: Duration
    let pauseFor: Duration
    var random: SplitMix64
    /// Reads the traffic counters, if the caller can: sampled around each failover.
    public var trafficProbe: (@Sendable () async -> Traffic)?

    public init(cluster: LocalCluster, fault: FaultKind, heartbeat: Duration, electionTimeout: Duration,
                pauseFor: Duration? = nil, seed: UInt64) {
        self.cluster = cluster
        self.fault = fault
        self.heartbeat = heartbeat
        self.electionTimeout = electionTimeout
        self.pauseFor = pauseFor ?? electionTimeout * 3
        random = SplitMix64(seed: seed)
    }

    /// Waits until one leader is known by every running node (HTTP; the measurement has not begun).
    public func waitForStableLeader(timeout: Duration) async throws -> LeaderView {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let leader = await cluster.currentLeader() {
                var agreed = true
                for node in cluster.nodes where node.isRunning {
                    let view = await cluster.leaderView(of: node.id)
                    if view?.leader != leader.self_ || view?.term != leader.term { agreed = false }
                }
                if agreed { return leader }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw BenchmarkError("no stable leader within \(timeout)")
    }

    public func runTrial() async throws -> Trial {
        let stable = try await waitForStableLeader(timeout: electionTimeout * 30)
        let old = cluster.node(NodeID(stable.self_)!)
        let survivors = cluster.nodes.filter { $0.id != old.id }.map(\.id.rawValue)
        // A random point of the heartbeat interval.
        let offset = Int64.random(in: 0..<max(1, heartbeat.nanoseconds), using: &random)
        try await Task.sleep(for: .nanoseconds(offset))
        let before = await trafficProbe?()
        let faultAt = SystemMonotonicClock.now.nanoseconds
        old.signal(fault == .crash ? SIGKILL : SIGSTOP)

        let deadline = ContinuousClock.now + electionTimeout * 40
        var first: LeadershipEventLine?
        var known: [UInt64: UInt64] = [:]
        while ContinuousClock.now < deadline {
            let recent = cluster.events.filter { $0.monotonicNanoseconds >= faultAt && $0.kind == .elected }
            if first == nil {
                first = recent.first { $0.isSelf && $0.term > stable.term && survivors.contains($0.node) }
            }
            if let first {
                for event in recent where event.leader == first.leader && event.term == first.term && known[event.node] == nil {
                    known[event.node] = event.monotonicNanoseconds
                }
                if survivors.allSatisfy({ known[$0] != nil }) { break }
            }
            try await Task.sleep(for: .milliseconds(1))
        }
        guard let first, survivors.allSatisfy({ known[$0] != nil }) else {
            try await restore(old, after: faultAt)
            throw BenchmarkError("no new leader known to every survivor within \(electionTimeout * 40)")
        }
        let after = await trafficProbe?()
        let sampledAt = SystemMonotonicClock.now.nanoseconds
        try await restore(old, after: faultAt)
        let allKnow = known.values.max()!
        var trial = Trial(
            oldLeader: stable.self_, newLeader: first.leader,
            firstLeaderMs: Double(first.monotonicNanoseconds - faultAt) / 1e6,
            allKnowMs: Double(allKnow - faultAt) / 1e6, terms: first.term - stable.term)
        if let before, let after {
            trial.traffic = after - before
            trial.trafficSeconds = Double(sampledAt - faultAt) / 1e9
        }
        return trial
    }

    /// Brings the failed node back and waits until it knows the current leader again (itself, for
    /// Bully, whose highest live ID takes over when it returns).
    func restore(_ node: NodeProcess, after faultAt: UInt64) async throws {
        switch fault {
        case .crash:
            await node.waitForExit(timeout: .seconds(5))
            try node.start()
        case .pause:
            let elapsed = Duration.nanoseconds(Int64(SystemMonotonicClock.now.nanoseconds - faultAt))
            if elapsed < pauseFor { try await Task.sleep(for: pauseFor - elapsed) }
            node.signal(SIGCONT)
        default:
            preconditionFailure("the failover benchmark injects crash or pause, not \(fault)")
        }
        let deadline = ContinuousClock.now + electionTimeout * 30
        while ContinuousClock.now < deadline {
            if let view = await cluster.leaderView(of: node.id), let leader = view.leader,
               leader != node.id.rawValue || cluster.settings.algorithm == "bully",
               let current = await cluster.leaderView(of: NodeID(leader)!), current.isLeader, current.term == view.term
            {
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw BenchmarkError("node \(node.id) did not rejoin within \(electionTimeout * 30)")
    }
}

public struct BenchmarkError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Order statistics of a sample.
public struct Summary: Sendable {
    public let sorted: [Double]

    public init(_ values: [Double]) { sorted = values.sorted() }

    public var count: Int { sorted.count }
    public var min: Double { sorted.first ?? .nan }
    public var max: Double { sorted.last ?? .nan }
    public var mean: Double { sorted.isEmpty ? .nan : sorted.reduce(0, +) / Double(sorted.count) }

    /// Nearest-rank quantile.
    public func quantile(_ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let rank = Int((q * Double(sorted.count)).rounded(.up))
        return sorted[Swift.max(0, Swift.min(sorted.count - 1, rank - 1))]
    }

    public var median: Double { quantile(0.5) }
}
