import BallotCore
import BallotSimulation
import Testing

/// Regression for the shell's tick order after a pause (found while building the fault suite).
///
/// Three nodes: leader L, voters F and G; L and G cannot reach each other, so G keeps campaigning
/// and only F's acknowledgements keep L's lease. F is stopped for 40–140 ms while L's heartbeats
/// queue for it; then L's link to F fails one way (F's acknowledgements still reach L) and F
/// resumes. If F handles the queued heartbeats before its missed ticks, it promises stickiness until
/// a tick that is already past, acknowledges (extending L's lease), and soon votes for G: two leases
/// at once. Delivering the missed ticks first (what `BallotNode.deliverDueTicks()` now guarantees)
/// makes the promise start from the real present, and the lease ends before F can vote.
@Suite struct PausedVoterTests {
    /// How many of `seeds` schedules end with a lease-exclusivity violation.
    func violations(ticksFirst: Bool, seeds: ClosedRange<UInt64>) -> [String] {
        var found: [String] = []
        for seed in seeds {
            var cluster = ScriptedCluster(nodes: 3, seed: seed)
            let elected = cluster.run(upTo: 3_000) { c in
                c.leader.map { leader in c.statuses.allSatisfy { $0.leader == leader.id } } ?? false
            }
            guard elected != nil, let leader = cluster.leader else {
                found.append("seed \(seed): no leader to start from")
                continue
            }
            let voters = cluster.statuses.map(\.id).filter { $0 != leader.id }
            let (f, g) = (voters[0], voters[1])
            cluster.partition([leader.id], from: [g])
            cluster.run(milliseconds: 450)  // 3 T: G's stickiness has long expired.
            cluster.pause(f)
            cluster.run(milliseconds: Double(40 + seed % 100))
            cluster.partition([leader.id], from: [f], bothWays: false)
            cluster.resume(f, ticksFirst: ticksFirst)
            cluster.run(milliseconds: 400)
            found += cluster.violations.map { "seed \(seed): \($0)" }
        }
        return found
    }

    @Test func aResumedVoterCatchesUpOnTicksBeforeItsQueuedMessages() {
        let found = violations(ticksFirst: true, seeds: 1...200)
        #expect(found.isEmpty, "\(found.prefix(3))")
    }

    /// The same schedules with the old order do break lease exclusivity, so the test above
    /// exercises the hazard rather than passing by luck.
    @Test func handlingQueuedMessagesFirstBreaksLeaseExclusivity() {
        let found = violations(ticksFirst: false, seeds: 1...200)
        #expect(found.contains { $0.contains("lease-exclusivity") }, "no schedule reached the hazard")
    }
}
