import BallotCore

extension ClusterSimulator {
    /// The lease of a leader is valid until its local clock reaches the expiry tick. Projecting
    /// that tick onto the virtual clock also covers a paused node, whose own clock stopped.
    func leaseIsValid(_ index: Int, _ status: NodeStatus) -> Bool {
        guard nodes[index].condition != .crashed, status.role == .leader, let expiry = status.leaseExpiry else {
            return false
        }
        if expiry == UInt64.max { return true }
        guard expiry > status.now else { return false }
        let end = nodes[index].lastTickAt.microseconds + (expiry - status.now) * tickPeriod(of: index)
        return now.microseconds < end
    }

    mutating func checkLeases() {
        var holders: [NodeStatus] = []
        for index in nodes.indices where nodes[index].condition != .crashed {
            let status = nodes[index].core.status
            if leaseIsValid(index, status) { holders.append(status) }
        }
        checker.checkLeases(holders, at: now)
    }

    /// After healing: has every node come to know the same leader, which itself leads that term?
    mutating func checkStable() {
        guard let healedAt else { return }
        let statuses = nodes.map { $0.core.status }
        guard let leader = statuses.first(where: { $0.role == .leader }),
              statuses.allSatisfy({ $0.leader == leader.id && $0.term == leader.term })
        else { return }
        result.timeToStableLeaderMicroseconds = now.microseconds - healedAt.microseconds
        trace("stable: node \(leader.id) leads term \(leader.term), known to all")
    }

    /// Adds the time since the last event during which two or more nodes believed they led.
    mutating func accountOverlap(until time: VirtualTime) {
        let leaders = nodes.count { $0.condition != .crashed && $0.core.status.role == .leader }
        if leaders > 1 { result.overlappingLeadershipMicroseconds += time.microseconds - now.microseconds }
    }
}
