import BallotCore

/// Issue 15's promises about preferred leaders, checked on every preemptive hand-over against what
/// really happened in the simulated network (not against what the leader believed):
///
/// - **cadence** (the anti-flapping bound): two preemptions, by whichever leaders, are at least one
///   preemption window apart in true time, less what clock drift and tick granularity allow;
/// - **upward**: a preemption goes to a member of strictly higher priority than the leader's;
/// - **reachability**: a leader preempts only when a message from every other member reached it
///   within the health gap (in true time, with drift) — never while a member is unreachable.
extension ClusterSimulator {
    func notePreemption(by index: Int, to target: NodeID) {
        let leader = nodes[index].id
        let previous = result.preemptions.last
        result.preemptions.append(Preemption(leader: leader, target: target, at: now))
        let tick = options.tickMicroseconds
        let window = options.preemptAfterTicks * tick
        let minimumGap = UInt64(Double(window) / (1 + options.clockDrift)) - min(2 * tick, window)
        if let previous, now.microseconds - previous.at.microseconds < minimumGap {
            checker.fail(.preemptionCadence, at: now,
                         "node \(leader) preempted \(Double(now.microseconds - previous.at.microseconds) / 1000) ms after "
                             + "node \(previous.leader) did, less than the \(Double(minimumGap) / 1000) ms the window allows")
        }
        let (own, theirs) = (options.priority(of: leader), options.priority(of: target))
        if theirs <= own {
            checker.fail(.preemptionUpward, at: now,
                         "node \(leader) (priority \(own)) preempted to node \(target) of priority \(theirs)")
        }
        let gap = options.raftConfiguration.healthGapTicks
        let allowed = UInt64(Double((gap + 1) * tick) / (1 - options.clockDrift)) + tick
        for peer in membership.peers(of: leader) {
            let last = lastDelivery[Link(from: peer, to: leader)] ?? .zero
            if now.microseconds - last.microseconds > allowed {
                checker.fail(.preemptionWhileUnreachable, at: now,
                             "node \(leader) preempted to node \(target) although nothing from node \(peer) had arrived "
                                 + "for \(Double(now.microseconds - last.microseconds) / 1000) ms")
            }
        }
    }

    /// Whether the leader at the end is a member of the highest priority (with priorities on).
    func endsWithPreferredLeader() -> Bool? {
        guard options.priorities, let leader = statuses.first(where: { $0.role == .leader }) else { return nil }
        let best = membership.members.map { options.priority(of: $0) }.max() ?? 0
        return options.priority(of: leader.id) == best
    }
}

/// A preemptive hand-over: `leader` started handing over to `target` at `at`.
public struct Preemption: Hashable, Sendable {
    public var leader: NodeID
    public var target: NodeID
    public var at: VirtualTime
}

extension SimulationResult {
    /// The most new leaderships (leader claims) within any span of `microseconds` of virtual time:
    /// the measure of flapping.
    public func maxLeaderChanges(within microseconds: UInt64) -> Int {
        maxEvents(leaderClaims.map(\.at.microseconds), within: microseconds)
    }

    /// The most preemptions within any span of `microseconds`.
    public func maxPreemptions(within microseconds: UInt64) -> Int {
        maxEvents(preemptions.map(\.at.microseconds), within: microseconds)
    }

    private func maxEvents(_ times: [UInt64], within span: UInt64) -> Int {
        var best = 0
        var first = 0
        for (last, time) in times.enumerated() {
            while time - times[first] >= span { first += 1 }
            best = max(best, last - first + 1)
        }
        return best
    }
}
