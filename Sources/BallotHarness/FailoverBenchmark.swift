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
        /// Terms the failover took (1 = elected at the first attempt).
        public var terms: UInt64
    }

    let cluster: LocalCluster
    /// `.crash` (SIGKILL, then a restart from the same data directory) or `.pause` (SIGSTOP for several
    /// election timeouts, then SIGCONT: a silent failure, no closed connection).
    let fault: FaultKind
    let heartbeat: Duration
    let electionTimeout: Duration
    let pauseFor: Duration
    var random: SplitMix64

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
        try await restore(old, after: faultAt)
        let allKnow = known.values.max()!
        return Trial(
            oldLeader: stable.self_, newLeader: first.leader,
            firstLeaderMs: Double(first.monotonicNanoseconds - faultAt) / 1e6,
            allKnowMs: Double(allKnow - faultAt) / 1e6, terms: first.term - stable.term)
    }

    /// Brings the failed node back and waits until it follows the current leader again.
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
            if let view = await cluster.leaderView(of: node.id), let leader = view.leader, leader != node.id.rawValue,
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
