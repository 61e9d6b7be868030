import BallotCore
import BallotTestKit
import Testing

/// Randomized but seeded histories through the in-test network: the invariants the harness checks on
/// every batch (Raft §5.2 election safety, Figure 2 persist-before-send, one lease holder, campaign
/// pairing) must hold under partitions, loss, transfers and restarts, and once the faults heal a
/// stable leader must emerge (liveness).
@Suite("Seeded fault sweep (Raft §5.2 safety, thesis §6.2/§6.4.1 lease, liveness)")
struct FaultSweepTests {
    struct Scenario: CustomTestStringConvertible, Sendable {
        var size: Int
        var preVote: Bool
        var stickiness: Bool
        var testDescription: String { "n=\(size) preVote=\(preVote) stickiness=\(stickiness)" }
    }

    static let scenarios: [Scenario] = (1...7).map { Scenario(size: $0, preVote: true, stickiness: true) } + [
        Scenario(size: 3, preVote: false, stickiness: true),
        Scenario(size: 4, preVote: true, stickiness: false),
        Scenario(size: 5, preVote: false, stickiness: false),
    ]

    @Test("Safety under faults and a leader after healing", arguments: scenarios)
    func sweep(scenario: Scenario) {
        let config = raftConfig(preVote: scenario.preVote, stickiness: scenario.stickiness)
        for seed in UInt64(0)..<25 {
            var network = RaftCluster(size: scenario.size, config: config, seed: seed)
            network.faultRandom = SplitMix64(seed: seed ^ 0x5EED)
            network.lossRate = 0.05
            var chaos = SplitMix64(seed: seed &* 31 &+ 7)
            let ids = network.ids
            func pick() -> NodeID { ids[Int(chaos.next() % UInt64(ids.count))] }

            for _ in 0..<(30 * Int(T)) {
                switch chaos.next() % 100 {
                case 0, 1: network.isolate(pick())
                case 2, 3: network.cut(pick(), pick())
                case 4: network.cutOneWay(from: pick(), to: pick())
                case 5, 6, 7: network.heal()
                case 8:
                    if let leader = network.leaders.first { try? network.transfer(from: leader, to: pick()) }
                case 9: network.restart(pick(), seed: chaos.next())
                default: break
                }
                network.step()
            }

            network.heal()
            network.lossRate = 0
            let settled = network.runUntil(maxTicks: 20 * Int(T)) { net in
                guard net.leaders.count == 1, let leader = net.leaders.first else { return false }
                return (config.leaseTicks == 0 || net.status(leader).holdsLease)
                    && net.ids.allSatisfy { net.status($0).leader == leader && net.status($0).term == net.status(leader).term }
            }
            #expect(settled != nil, "\(scenario.testDescription) seed \(seed): no stable leader 20T ticks after healing; terms \(network.terms)")
            #expect(network.violations == [], "\(scenario.testDescription) seed \(seed)")
            if !network.violations.isEmpty { break }
        }
    }

    // Thesis §6.4.1: the lease is shortened by the drift bound ρ so that it never outlives the voters'
    // stickiness. One node's clock runs ~2.4% fast and another's ~2.4% slow (relative drift just under
    // ρ = 5%); with every kind of fault, still no two nodes may hold a lease at the same moment.
    @Test("Thesis §6.4.1: with clock drift within ρ, never two lease holders at once", arguments: [3, 4, 5])
    func leaseUnderDrift(size: Int) {
        for seed in UInt64(0)..<40 {
            var network = RaftCluster(size: size, config: raftConfig(drift: 0.05), seed: seed)
            network.faultRandom = SplitMix64(seed: seed ^ 0xD21F7)
            network.lossRate = 0.1
            var chaos = SplitMix64(seed: seed &* 131 &+ 3)
            let ids = network.ids
            func pick() -> NodeID { ids[Int(chaos.next() % UInt64(ids.count))] }
            let fast = pick()
            let slow = ids.first { $0 != fast }!
            var leaseTicks = 0
            for step in 1...(60 * Int(T)) {
                switch chaos.next() % 100 {
                case 0..<3: network.isolate(pick())
                case 3..<6: network.cut(pick(), pick())
                case 6..<8: network.cutOneWay(from: pick(), to: pick())
                case 8..<12: network.heal()
                case 12: if let leader = network.leaders.first { try? network.transfer(from: leader, to: pick()) }
                default: break
                }
                let drifts = step % 41 == 0
                for id in ids where !(drifts && id == slow) {
                    network.tick(id)
                    if drifts && id == fast { network.tick(id) }
                }
                network.deliverAll()
                if !network.leaseHolders.isEmpty { leaseTicks += 1 }
            }
            #expect(leaseTicks > 0, "n=\(size) seed \(seed): nobody ever held a lease, so nothing was checked")
            #expect(network.violations == [], "n=\(size) seed \(seed), fast \(fast), slow \(slow)")
            if !network.violations.isEmpty { break }
        }
    }
}
