import BallotCore
import BallotTestKit
import Testing

/// The failure timeout T of these tests; heartbeats every tick, answers awaited 2 ticks.
private let failureTimeout: UInt64 = 10
private let bullyConfig = BullyConfiguration(
    failureTimeoutTicks: failureTimeout, heartbeatIntervalTicks: 1, answerTimeoutTicks: 2, coordinatorTimeoutTicks: 10)

private func bullyNode(_ id: NodeID, of size: Int, hardState: HardState = .initial, seed: UInt64 = 7) -> BullyNode {
    BullyNode(
        id: id, membership: cluster(size), configuration: bullyConfig, hardState: hardState,
        random: SplitMix64(seed: seed &* 1_000_003 &+ id.rawValue))
}

private func bullyCluster(_ size: Int, seed: UInt64 = 7) -> CoreCluster<BullyNode> {
    CoreCluster(size: size) { id, state, _ in bullyNode(id, of: size, hardState: state, seed: seed) }
}

/// A follower of coordinator `leader` (epoch `epoch`) that has ticked once, so its start-up
/// election is behind it.
private func follower(_ id: NodeID, of size: Int, leader: NodeID, epoch: Term) -> BullyNode {
    var node = bullyNode(id, of: size)
    _ = node.receive(.bullyCoordinator(BullyCoordinator(epoch: epoch)), from: leader)
    _ = node.tick()
    return node
}

@Suite("Bully election (Garcia-Molina 1982)")
struct BullyTests {
    @Test("the highest live ID wins, and everyone follows it in the announced epoch")
    func highestLiveIDWins() throws {
        var net = bullyCluster(5)
        net.crash(5)
        let ticks = net.runUntil(maxTicks: 20) { $0.agreedLeader != nil }
        #expect(ticks != nil)
        #expect(net.agreedLeader == 4)
        #expect(net.live.allSatisfy { net.status($0).term == 1 })
        #expect(net.status(4).holdsLease, "Bully's holdsLease means: believes it is coordinator")
        #expect(net.live.filter { $0 != 4 }.allSatisfy { !net.status($0).holdsLease })
        // Node 4 waited the answer timeout for node 5, then announced: a few ticks, not a timeout.
        #expect(ticks! <= Int(bullyConfig.answerTimeoutTicks) + 2)
    }

    @Test("a cold start costs n(n−1)/2 election messages: each member asks every higher one once")
    func coldStartIsQuadratic() {
        for size in [3, 5, 9] {
            var net = bullyCluster(size)
            net.run(ticks: 5)
            #expect(net.agreedLeader == NodeID(UInt64(size)))
            #expect(net.sent(.bullyElection).count == size * (size - 1) / 2)
            #expect(net.sent(.bullyAnswer).count == size * (size - 1) / 2)
            // The top ID announces itself to all, and repeats the announcement to each asker.
            #expect(net.sent(.bullyCoordinator).count == 2 * (size - 1))
        }
    }

    @Test("a lower ID's election is answered, and the answerer holds its own election upwards")
    func lowerElectionIsAnswered() {
        var node = follower(3, of: 5, leader: 5, epoch: 2)
        // The coordinator has been quiet for more than two heartbeat intervals.
        _ = node.tick(times: 2 * bullyConfig.heartbeatIntervalTicks)
        let actions = node.receive(.bullyElection(BullyElection(epoch: 2)), from: 1)
        #expect(actions.sends == [
            Sent(message: .bullyAnswer(BullyAnswer(epoch: 2)), to: 1),
            Sent(message: .bullyElection(BullyElection(epoch: 2)), to: 4),
            Sent(message: .bullyElection(BullyElection(epoch: 2)), to: 5),
        ])
        #expect(node.status.role == .candidate)
        #expect(node.status.leader == nil)
        #expect(actions.contains(.campaignStarted(.vote, term: 3)))
    }

    @Test("a follower that just heard its coordinator only answers: the coordinator answers the asker")
    func freshCoordinatorMeansNoTakeover() {
        var node = follower(3, of: 5, leader: 5, epoch: 2)
        _ = node.receive(.bullyHeartbeat(BullyHeartbeat(epoch: 2)), from: 5)
        let actions = node.receive(.bullyElection(BullyElection(epoch: 2)), from: 1)
        #expect(actions.sends == [Sent(message: .bullyAnswer(BullyAnswer(epoch: 2)), to: 1)])
        #expect(node.status.role == .follower && node.status.leader == 5)
    }

    @Test("the coordinator answers a lower election and repeats its announcement to the asker only")
    func coordinatorAnswersWithItsAnnouncement() {
        var net = bullyCluster(3)
        net.run(ticks: 3)
        var leader = net.nodes[3]!
        #expect(leader.status.role == .leader)
        let epoch = leader.status.term
        let actions = leader.receive(.bullyElection(BullyElection(epoch: epoch)), from: 1)
        #expect(actions.sends == [
            Sent(message: .bullyAnswer(BullyAnswer(epoch: epoch)), to: 1),
            Sent(message: .bullyCoordinator(BullyCoordinator(epoch: epoch)), to: 1),
        ])
        #expect(leader.status.role == .leader && leader.status.term == epoch)
        // An asker that has seen a newer epoch would ignore that announcement: announce a newer one.
        let newer = leader.receive(.bullyElection(BullyElection(epoch: epoch.next.next)), from: 2)
        #expect(newer.persists == [HardState(term: Term(epoch.rawValue + 3))])
        #expect(newer.messages(of: .bullyCoordinator).map(\.to) == [1, 2])
    }

    @Test("an answered member waits for the announcement, and holds the election again if none comes")
    func answeredMemberWaitsThenRetries() {
        var node = follower(2, of: 3, leader: 3, epoch: 1)
        var actions: [Action] = []
        // The coordinator goes silent: the failure timer fires within [T, 2T).
        for _ in 0..<(2 * failureTimeout) where node.status.role == .follower { actions = node.tick() }
        #expect(node.status.role == .candidate)
        #expect(actions.messages(of: .bullyElection).map(\.to) == [3])
        _ = node.receive(.bullyAnswer(BullyAnswer(epoch: 1)), from: 3)
        // No announcement: the answer timeout passes without a self-proclamation…
        let waited = node.tick(times: bullyConfig.answerTimeoutTicks + 1)
        #expect(node.status.role == .candidate)
        #expect(waited.messages(of: .bullyCoordinator).isEmpty)
        // …and once the coordinator timeout has passed since the answer, the election is held again.
        let retried = node.tick(times: bullyConfig.coordinatorTimeoutTicks - bullyConfig.answerTimeoutTicks - 1)
        #expect(retried.contains(.campaignFinished(.timedOut, ticks: bullyConfig.coordinatorTimeoutTicks)))
        #expect(retried.messages(of: .bullyElection).map(\.to) == [3])
        // Still nobody answers now (node 3 is really dead): node 2 is the highest live member.
        let won = node.tick(times: bullyConfig.answerTimeoutTicks)
        #expect(node.status.role == .leader)
        #expect(node.status.term == 2)
        #expect(won.messages(of: .bullyCoordinator).map(\.to) == [1, 3])
    }

    @Test("a recovering higher ID bullies its way in and takes over from the lower coordinator")
    func recoveringHigherIDTakesOver() throws {
        var net = bullyCluster(5)
        try #require(net.runUntil(maxTicks: 10) { $0.agreedLeader == 5 } != nil)
        net.crash(5)
        try #require(net.runUntil(maxTicks: 3 * Int(failureTimeout)) { $0.agreedLeader == 4 } != nil)
        let lowerEpoch = net.status(4).term
        #expect(lowerEpoch == 2)

        net.restart(5)
        #expect(net.status(5).term == 1, "the epoch survives the crash")
        let mark = net.mark
        let took = net.runUntil(maxTicks: 10) { $0.agreedLeader == 5 }
        #expect(took != nil && took! <= 3, "node 5 announces on its first tick, nobody being above it")
        #expect(net.status(5).term > lowerEpoch)
        #expect(net.actions(of: 4).stepDowns == [.higherTerm])
        #expect(net.sent(.bullyElection, since: mark).isEmpty, "the top ID has nobody to ask")
    }

    @Test("a follower hearing a lower ID claim to coordinate bullies it; a stale claim is ignored")
    func lowerClaimsAreBullied() {
        var node = follower(3, of: 5, leader: 5, epoch: 4)
        #expect(node.receive(.bullyHeartbeat(BullyHeartbeat(epoch: 3)), from: 2).isEmpty)
        #expect(node.receive(.bullyCoordinator(BullyCoordinator(epoch: 3)), from: 4).isEmpty)
        #expect(node.status.leader == 5)
        let bullied = node.receive(.bullyCoordinator(BullyCoordinator(epoch: 4)), from: 2)
        #expect(node.status.role == .candidate)
        #expect(bullied.messages(of: .bullyElection).map(\.to) == [4, 5])
    }

    @Test("a newer epoch wins; within an epoch the higher ID does")
    func claimsAreOrderedByEpochThenID() {
        var node = follower(1, of: 5, leader: 3, epoch: 4)
        _ = node.receive(.bullyHeartbeat(BullyHeartbeat(epoch: 4)), from: 2)
        #expect(node.status.leader == 3)
        _ = node.receive(.bullyHeartbeat(BullyHeartbeat(epoch: 4)), from: 5)
        #expect(node.status.leader == 5)
        let newer = node.receive(.bullyCoordinator(BullyCoordinator(epoch: 6)), from: 2)
        #expect(node.status.leader == 2 && node.status.term == 6)
        #expect(newer.persists == [HardState(term: 6)])
        #expect(newer.leaderChanges == [LeaderInfo(id: 2, term: 6)])
    }

    @Test("a partition leaves a coordinator on each side; healing leaves the highest")
    func partitionMakesTwoCoordinators() throws {
        var net = bullyCluster(5)
        try #require(net.runUntil(maxTicks: 10) { $0.agreedLeader == 5 } != nil)
        for id in net.ids where id != 5 { net.cut(5, id) }
        net.run(ticks: 3 * Int(failureTimeout))
        #expect(net.leaders == [4, 5], "no quorum: both sides have a coordinator")
        #expect(net.status(4).holdsLease && net.status(5).holdsLease)
        net.heal()
        let merged = net.runUntil(maxTicks: 10) { $0.agreedLeader == 5 }
        #expect(merged != nil)
        // 5 led epoch 1, the majority side announced 2, and 5 bullied back with 3.
        #expect(net.status(5).term == 3)
    }

    @Test("the epoch is persisted before the announcement leaves")
    func announcementIsDurableFirst() {
        var node = bullyNode(3, of: 3)
        let actions = node.tick()
        let persist = actions.firstIndex(of: .persist(HardState(term: 1)))
        let announce = actions.firstIndex { $0.sent?.message.kind == .bullyCoordinator }
        #expect(persist != nil && announce != nil && persist! < announce!)
        #expect(actions.contains(.campaignFinished(.won, ticks: 0)))
        #expect(actions.contains(.leaderChanged(LeaderInfo(id: 3, term: 1))))
    }

    @Test("no transfer, no preferred target; shutdown steps down; foreign messages are ignored")
    func apiSurface() throws {
        var node = bullyNode(2, of: 2)
        _ = node.tick()
        #expect(node.status.role == .leader)
        #expect(throws: TransferRefusal.unsupported(algorithm: "bully")) { try node.transferLeadership(to: 1) }
        #expect(node.preferredTransferTarget == nil)
        #expect(node.receive(.heartbeat(Heartbeat(term: 9, sequence: 1, leaderLog: .empty)), from: 1).isEmpty)
        #expect(node.receive(.ringHeartbeat(RingHeartbeat(epoch: 9)), from: 1).isEmpty)
        #expect(node.receive(.bullyHeartbeat(BullyHeartbeat(epoch: Term.maximum)), from: 1).isEmpty)
        let actions = node.shutdown()
        #expect(actions.stepDowns == [.shutdown])
        #expect(node.status.role == .follower && !node.status.holdsLease)
        #expect(BullyNode.algorithmName == "bully")
    }

    @Test("Raft ignores Bully and Ring messages, whatever epoch they carry")
    func raftIgnoresForeignMessages() {
        var raft = makeNode(1, of: 3)
        for message: Message in [
            .bullyCoordinator(BullyCoordinator(epoch: 50)), .bullyElection(BullyElection(epoch: 50)),
            .ringElected(RingElected(epoch: 50, coordinator: 2, sequence: 1)), .ringHeartbeat(RingHeartbeat(epoch: 50)),
        ] {
            #expect(raft.receive(message, from: 2).isEmpty)
        }
        #expect(raft.status.term == 0)
    }

    @Test("configuration validation names the offending setting")
    func configurationValidation() {
        #expect(throws: TimingConfigurationError.tooShort(setting: "failure timeout", ticks: 1, minimum: 2)) {
            try BullyConfiguration(failureTimeoutTicks: 1).validate()
        }
        #expect(throws: TimingConfigurationError.notBelow(
            setting: "heartbeat interval", ticks: 10, limitSetting: "failure timeout", limit: 10)) {
            try BullyConfiguration(failureTimeoutTicks: 10, heartbeatIntervalTicks: 10).validate()
        }
        #expect(throws: TimingConfigurationError.tooShort(setting: "coordinator timeout", ticks: 2, minimum: 3)) {
            try BullyConfiguration(answerTimeoutTicks: 2, coordinatorTimeoutTicks: 2).validate()
        }
        #expect(throws: Never.self) { try BullyConfiguration().validate() }
    }
}

extension BullyNode {
    mutating func tick(times count: UInt64) -> [Action] {
        var all: [Action] = []
        for _ in 0..<count { all += tick() }
        return all
    }
}
