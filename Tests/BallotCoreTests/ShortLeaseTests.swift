import BallotCore
import BallotTestKit
import Testing

/// A lease capped below what T allows (`leaseLimitTicks`, `--lease-duration`): voters promise only
/// as long as the lease needs, so the successor of a crashed leader waits that and not T; and a
/// follower gives its withheld credit the tick its promise ends, not a heartbeat later.
@Suite struct ShortLeaseTests {
    @Test("With the longest lease the promise is at most T and backs the lease; without drift it is T")
    func thePromiseOfTheLongestLease() {
        for drift in [0.0, 0.01, 0.05, 0.2, 0.45] {
            for timeout in UInt64(2)...300 {
                let config = raftConfig(electionTimeout: timeout, drift: drift)
                let (lease, promise) = (config.leaseTicks, config.leasePromiseTicks)
                if lease == 0 {
                    #expect(promise == 0)
                    continue
                }
                #expect(promise <= timeout, "T \(timeout), ρ \(drift)")
                #expect(Double(lease) / (1 - drift) <= Double(promise - 1) / (1 + drift) + 1e-9, "T \(timeout), ρ \(drift)")
                if drift == 0 { #expect(promise == timeout) }
            }
        }
    }

    @Test("A capped lease gets a promise that outlives it on any clocks within the drift bound, and never above T")
    func aCappedLeaseIsBackedByAShorterPromise() {
        for drift in [0.0, 0.05, 0.2] {
            for cap in UInt64(2)...99 {
                var config = raftConfig(electionTimeout: 100, drift: drift)
                config.leaseLimitTicks = cap
                let lease = Double(config.leaseTicks)
                let promise = config.leasePromiseTicks
                #expect(config.leaseTicks <= cap)
                // The lease's longest real length must not exceed the promise's shortest (one tick lost).
                #expect(lease / (1 - drift) <= Double(promise - 1) / (1 + drift) + 1e-9, "cap \(cap), ρ \(drift)")
                #expect(promise <= 100)
            }
        }
        var config = raftConfig(electionTimeout: 100, drift: 0.05)
        config.leaseLimitTicks = 20
        #expect(config.leasePromiseTicks == 24, "⌈20 · 1.05/0.95⌉ + 1 = ⌈22.1⌉ + 1")
    }

    @Test("A cap under two heartbeat intervals is refused with what to do")
    func aCapUnderTwoHeartbeatsIsRefused() throws {
        var config = raftConfig(electionTimeout: 20, heartbeat: 3)
        config.leaseLimitTicks = 5
        #expect(throws: RaftConfigurationError.leaseNotTwoHeartbeats(lease: 5, heartbeat: 3)) { try config.validate() }
        #expect("\(RaftConfigurationError.leaseNotTwoHeartbeats(lease: 5, heartbeat: 3))".contains("send heartbeats more often"))
        config.leaseLimitTicks = 6
        try config.validate()
    }

    @Test("After a crash reported as evidence, the successor's lease waits the short promise, not T")
    func aCrashWaitsOnlyTheShortPromise() throws {
        var config = raftConfig(electionTimeout: 40)
        config.leaseLimitTicks = 8
        var network = try RaftCluster.elected(size: 3, config: config)
        network.run(ticks: 2)
        let oldDeadline = try #require(network.status(1).leaseExpiry)
        let crashedAt = network.status(2).now
        network.crash(1)
        network.reportUnreachable(1, at: 2)
        network.reportUnreachable(1, at: 3)
        let steps = network.runUntil(maxTicks: 40) { net in [2, 3].contains { net.status(nodeID($0)).holdsLease } }
        try #require(steps != nil, "no lease within T of the crash")
        let leader = try #require(network.leaders.first { $0 != 1 })
        let begun = network.status(leader).now
        #expect(begun >= oldDeadline, "lease began at \(begun), before the dead leader's deadline \(oldDeadline)")
        #expect(begun <= crashedAt + config.leasePromiseTicks + 2, "began at \(begun): waited more than the promise")
        #expect(begun < crashedAt + 40 / 2, "began at \(begun): a short lease must hand over well before T")
        #expect(network.violations == [])
    }

    @Test("A follower that withheld credit gives it on the tick its promise ends, without waiting for a heartbeat")
    func withheldCreditIsGivenWhenThePromiseEnds() {
        var (follower, log, promisedAt, early) = followerOwingAnEarlierPromise()
        #expect(early.sends.map(\.message) == [.heartbeatResponse(HeartbeatResponse(term: 2, sequence: 0, lastLog: log))])
        #expect(follower.ticksUntilTimer == T, "wakes when the promise ends")
        let before = follower.tick(times: T - 1)
        #expect(before.sends.isEmpty)
        let atEnd = follower.tick()
        #expect(follower.status.now == promisedAt + T)
        #expect(atEnd.sends.map(\.message) == [.heartbeatResponse(HeartbeatResponse(term: 2, sequence: 1, lastLog: log))])
        #expect(follower.tick().sends.isEmpty, "credited once")
    }
}
