import BallotCore

extension ClusterSimulator {
    /// Whether the node would answer "I am the leader" now: its own leadership view, judged on its
    /// own clock at this virtual instant — the answer the server gives, decided in the same place.
    /// A paused node's clock keeps running, so a lease it lost while paused is seen as lost.
    func leaseIsValid(_ index: Int) -> Bool {
        guard nodes[index].condition != .crashed else { return false }
        return nodes[index].driver.view.current.isLeader(at: nodes[index].clock.now)
    }

    func checkLeases() {
        var holders: [NodeStatus] = []
        for index in nodes.indices where statuses[index].role == .leader && nodes[index].condition != .crashed {
            let view = nodes[index].driver.view.current
            if view.role == .leader, let deadline = view.lease.deadline {
                checker.recordLease(of: nodes[index].id, term: view.term,
                                    until: nodes[index].clock.virtualTime(reaching: deadline))
            }
            if leaseIsValid(index) { holders.append(statuses[index]) }
        }
        if holders.count > 1 && leaseHolderCount <= 1 { result.splitBrainEpisodes += 1 }
        leaseHolderCount = holders.count
        checker.checkLeases(holders, at: now)
        checker.checkLeaseSuccession(holders, at: now)
    }

    /// After healing: has every node come to know the same leader, which itself leads that term?
    func checkStable() {
        guard let healedAt else { return }
        guard let leader = statuses.first(where: { $0.role == .leader }),
              statuses.allSatisfy({ $0.leader == leader.id && $0.term == leader.term })
        else { return }
        result.timeToStableLeaderMicroseconds = now.microseconds - healedAt.microseconds
        trace("stable: node \(leader.id) leads term \(leader.term), known to all")
    }

    /// Adds the time since the last event during which two or more nodes believed they led: by
    /// role, and by what they would answer when asked "are you the leader" (split brain).
    func accountOverlap(until time: VirtualTime) {
        let elapsed = time.microseconds - now.microseconds
        if leaseHolderCount > 1 { result.splitBrainMicroseconds += elapsed }
        var leaders = 0
        for index in nodes.indices where statuses[index].role == .leader && nodes[index].condition != .crashed {
            leaders += 1
        }
        if leaders > 1 { result.overlappingLeadershipMicroseconds += elapsed }
    }

    /// The leader every node of `group` (indices) follows in its term, if there is one and it is
    /// in the group and up; `nil` while they disagree, or while two of them lead.
    func stableLeader(among group: [Int]) -> NodeStatus? {
        guard let leaderIndex = group.first(where: { statuses[$0].role == .leader && nodes[$0].condition != .crashed })
        else { return nil }
        let leader = statuses[leaderIndex]
        for index in group {
            let status = statuses[index]
            if status.leader != leader.id || status.term != leader.term { return nil }
            if index != leaderIndex && status.role == .leader { return nil }
        }
        return leader
    }

    /// Records the first instant the watched condition holds.
    func check(_ watch: Watch) {
        let now = self.now
        switch watch.condition {
        case .stableLeader:
            guard let leader = stableLeader(among: watch.group) else { return }
            self.watch?.metAt = now
            self.watch?.leader = leader.id
        case .campaigning:
            let campaigner = watch.group.first { index in
                nodes[index].condition == .up && (statuses[index].role == .candidate || statuses[index].role == .preCandidate)
            }
            guard let campaigner else { return }
            self.watch?.metAt = now
            self.watch?.leader = nodes[campaigner].id
        }
    }
}

/// A condition a scripted run waits for, over a group of nodes (by index).
struct Watch {
    enum Condition {
        /// Every node of the group follows one leader, in its term, and that leader is in the group.
        case stableLeader
        /// Some up node of the group campaigns (candidate or pre-candidate).
        case campaigning
    }

    let condition: Condition
    let group: [Int]
    /// When the condition first held.
    var metAt: VirtualTime?
    /// The stable leader, or the first campaigner.
    var leader: NodeID?

    init(_ condition: Condition, group: [Int]) {
        self.condition = condition
        self.group = group
    }
}
