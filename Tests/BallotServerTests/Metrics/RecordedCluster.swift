import BallotCore
import BallotRuntime
import BallotServer
import BallotTestKit
import Testing

/// A ``DriverCluster`` whose nodes each feed a real ``MetricsRecorder`` (as their driver's
/// observer, reading their view), on synthetic monotonic instants (`base + tick × n`), so that
/// every duration the recorder reports can be checked exactly against what the cores did.
struct RecordedCluster {
    static let tick = DriverCluster.tick
    static let wallClockBase = 1_700_000_000.0

    let cluster: DriverCluster
    /// Each incarnation's recorder, and what it was told, by node.
    private let taps: Taps

    init(size: Int = 3, seed: UInt64) {
        let taps = Taps()
        self.taps = taps
        cluster = DriverCluster(size: size, seed: seed) { id, view in
            let tap = Tap(recorder: MetricsRecorder(
                view: view, membership: Membership((1...UInt64(size)).map { NodeID(integerLiteral: $0) }),
                algorithm: RaftNode.algorithmName, version: "test", tickDuration: DriverCluster.tick))
            taps.retire(id)
            taps.current[id] = tap
            return tap
        }
    }

    var base: MonotonicInstant { cluster.base }
    var ids: [NodeID] { cluster.ids }
    var now: MonotonicInstant { cluster.now }
    var isolated: Set<NodeID> {
        get { cluster.isolated }
        nonmutating set { cluster.isolated = newValue }
    }
    func wallClock(at instant: MonotonicInstant) -> Double {
        Self.wallClockBase + (instant - base).seconds
    }

    func status(_ id: NodeID) -> NodeStatus { cluster.status(id) }
    func recorder(_ id: NodeID) -> MetricsRecorder { taps.current[id]!.recorder }
    func view(_ id: NodeID) -> LeadershipState { cluster.view(id).current }
    var leader: NodeID? { cluster.leader }
    func agreeOnLeader(_ group: [NodeID]? = nil) -> NodeID? { cluster.agreeOnLeader(group) }
    /// The last hard state each node persisted: what survives a crash.
    var persisted: [NodeID: HardState] { cluster.stores.compactMapValues { $0.saved.isEmpty ? nil : $0.state } }

    /// Renders a node's recorder at `instant` (default: now) and parses the text.
    func scrape(_ id: NodeID, at instant: MonotonicInstant? = nil) throws -> Exposition {
        let at = instant ?? now
        return try Exposition(recorder(id).render(now: at, wallClockNow: wallClock(at: at)))
    }

    // What the cores did, as their drivers reported it, to check the recorder against.
    var finishedCampaigns: [NodeID: [(outcome: CampaignOutcome, ticks: UInt64)]] {
        actions { if case .campaignFinished(let outcome, let ticks) = $0 { (outcome, ticks) } else { nil } }
            .mapValues { $0.map(\.value) }
    }
    var heartbeatsSent: [NodeID: Int] {
        actions { if case .send(.heartbeat, _) = $0 { () } else { nil } }.mapValues(\.count)
    }
    /// Instants at which each node learned of a (non-nil) leader, in order.
    var leaderFound: [NodeID: [(leader: LeaderInfo, at: MonotonicInstant)]] {
        actions { if case .leaderChanged(let leader?) = $0 { leader } else { nil } }
            .mapValues { $0.map { (leader: $0.value, at: $0.at) } }
    }
    /// Instants at which each node lost its leader (`leaderChanged(nil)`), in order.
    var leaderLost: [NodeID: [MonotonicInstant]] {
        actions { if case .leaderChanged(nil) = $0 { () } else { nil } }.mapValues { $0.map(\.at) }
    }
    var steppedDownAt: [NodeID: MonotonicInstant] {
        actions { if case .steppedDown = $0 { () } else { nil } }.compactMapValues { $0.last?.at }
    }

    /// Every action of every incarnation of each node that `pick` maps to a value, with its instant.
    private func actions<Value>(_ pick: (Action) -> Value?) -> [NodeID: [(value: Value, at: MonotonicInstant)]] {
        var found: [NodeID: [(value: Value, at: MonotonicInstant)]] = [:]
        for (id, batches) in taps.batches {
            for (actions, at) in batches {
                for action in actions {
                    if let value = pick(action) { found[id, default: []].append((value, at)) }
                }
            }
        }
        return found
    }

    // MARK: Driving

    func step() { cluster.step() }
    @discardableResult
    func run(maxTicks: Int, until condition: (RecordedCluster) -> Bool) -> Bool {
        cluster.run(maxTicks: maxTicks) { _ in condition(self) }
    }
    func run(ticks count: Int) { cluster.run(ticks: count) }
    @discardableResult
    func elect(among group: [NodeID]? = nil, maxTicks: Int = 300) -> NodeID? {
        cluster.elect(among: group, maxTicks: maxTicks)
    }
    func transferLeadership(from leader: NodeID, to target: NodeID) throws {
        try cluster.transferLeadership(from: leader, to: target)
    }
    func crash(_ id: NodeID) { cluster.crash(id) }
    func restart(_ id: NodeID) { cluster.restart(id) }

    /// Forwards a driver's reports to its recorder and keeps its batches for the checks.
    final class Tap: NodeDriverObserver {
        let recorder: MetricsRecorder
        var batches: [(actions: [Action], at: MonotonicInstant)] = []
        init(recorder: MetricsRecorder) { self.recorder = recorder }
        func executed(_ actions: [Action], at instant: MonotonicInstant) {
            batches.append((actions, instant))
            recorder.executed(actions, at: instant)
        }
        func heartbeatAcknowledged(by peer: NodeID, after roundTrip: Duration) {
            recorder.heartbeatAcknowledged(by: peer, after: roundTrip)
        }
        func heartbeatFailed(to peer: NodeID) { recorder.heartbeatFailed(to: peer) }
    }

    final class Taps {
        var current: [NodeID: Tap] = [:]
        private var retired: [NodeID: [Tap]] = [:]
        /// Every incarnation's batches, oldest incarnation first.
        var batches: [NodeID: [(actions: [Action], at: MonotonicInstant)]] {
            var all: [NodeID: [(actions: [Action], at: MonotonicInstant)]] = [:]
            for (id, taps) in retired { all[id, default: []] += taps.flatMap(\.batches) }
            for (id, tap) in current { all[id, default: []] += tap.batches }
            return all
        }
        func retire(_ id: NodeID) {
            if let tap = current.removeValue(forKey: id) { retired[id, default: []].append(tap) }
        }
    }
}

/// A duration in seconds, as the exposition shows it.
func seconds(_ duration: Duration) -> Double { duration.seconds }
