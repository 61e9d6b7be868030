import BallotCore
import BallotTestKit
import Testing

/// The failure timeout T of these tests. A token forwarded while handling a message is acknowledged
/// two ticks later in the harness (one hop per tick), so acknowledgements are awaited 3 ticks.
private let failureTimeout: UInt64 = 10
private let ringConfig = RingConfiguration(
    failureTimeoutTicks: failureTimeout, heartbeatIntervalTicks: 1, ackTimeoutTicks: 3, electionTimeoutTicks: 60)

private func ringNode(_ id: NodeID, of size: Int, hardState: HardState = .initial, seed: UInt64 = 7) -> RingNode {
    RingNode(
        id: id, membership: cluster(size), configuration: ringConfig, hardState: hardState,
        random: SplitMix64(seed: seed &* 1_000_003 &+ id.rawValue))
}

private func ringCluster(_ size: Int, seed: UInt64 = 7) -> CoreCluster<RingNode> {
    CoreCluster(size: size) { id, state, _ in ringNode(id, of: size, hardState: state, seed: seed) }
}

/// Ticks a copy of a lone node until it starts an election.
private func ticksUntilInitiating(_ node: RingNode) -> Int? {
    var copy = node
    for ticks in 1...100 {
        if copy.tick().contains(where: { $0.campaignPhase != nil }) { return ticks }
    }
    return nil
}

/// A 5-node ring run until node 5 coordinates and its elected message has gone round.
private func electedRing(_ size: Int = 5) throws -> CoreCluster<RingNode> {
    var net = ringCluster(size)
    try #require(net.runUntil(maxTicks: 6 * Int(failureTimeout)) { $0.agreedLeader == NodeID(UInt64(size)) } != nil)
    net.run(ticks: 3 * size)
    return net
}

@Suite("Ring election (Chang–Roberts, LeLann; Tanenbaum §6.5)")
struct RingTests {
    @Test("the highest ID wins and exactly one elected message circulates, once round the ring")
    func oneElectedMessageCirculates() throws {
        for size in [2, 5, 8] {
            let net = try electedRing(size)
            #expect(net.agreedLeader == NodeID(UInt64(size)))
            let elected = net.sent(.ringElected)
            #expect(elected.count == size, "one forward per member: \(elected)")
            #expect(Set(elected.map(\.from)) == Set(net.ids))
            #expect(Set(elected.map { [$0.from, $0.to] }).count == size, "no hop repeated")
            #expect(elected.allSatisfy { $0.to == net.ids[(net.ids.firstIndex(of: $0.from)! + 1) % size] })
            #expect(elected.allSatisfy { $0.message.term == 1 })
            // Every token was acknowledged, nothing skipped.
            #expect(net.sent(.ringAck).count == net.sent(.ringElection).count + size)
        }
    }

    @Test("a token that cannot win is swallowed; a higher one is forwarded; one's own ID back wins")
    func changRobertsRules() {
        var node = ringNode(3, of: 5)
        let joined = node.receive(.ringElection(RingElection(epoch: 1, candidate: 2, sequence: 9)), from: 2)
        #expect(joined.sends == [
            Sent(message: .ringAck(RingAck(epoch: 1, sequence: 9)), to: 2),
            Sent(message: .ringElection(RingElection(epoch: 1, candidate: 3, sequence: 1)), to: 4),
        ])
        #expect(node.status.role == .candidate)
        let swallowed = node.receive(.ringElection(RingElection(epoch: 1, candidate: 1, sequence: 4)), from: 2)
        #expect(swallowed.sends == [Sent(message: .ringAck(RingAck(epoch: 1, sequence: 4)), to: 2)])
        let higher = node.receive(.ringElection(RingElection(epoch: 1, candidate: 5, sequence: 5)), from: 2)
        #expect(higher.messages(of: .ringElection) == [
            Sent(message: .ringElection(RingElection(epoch: 1, candidate: 5, sequence: 2)), to: 4)
        ])
        #expect(node.status.role == .follower)
        #expect(higher.contains(.campaignFinished(.lost, ticks: 0)))

        var winner = ringNode(4, of: 5)
        _ = winner.receive(.ringElection(RingElection(epoch: 1, candidate: 2, sequence: 1)), from: 3)
        let won = winner.receive(.ringElection(RingElection(epoch: 1, candidate: 4, sequence: 7)), from: 3)
        #expect(winner.status.role == .leader && winner.status.term == 1)
        #expect(won.persists == [HardState(term: 1)])
        #expect(won.messages(of: .ringElected) == [
            Sent(message: .ringElected(RingElected(epoch: 1, coordinator: 4, sequence: 2)), to: 5)
        ])
    }

    @Test("dead successors are skipped once they fail to acknowledge")
    func deadSuccessorsAreSkipped() throws {
        var net = try electedRing()
        net.crash(5)
        net.crash(3)
        let mark = net.mark
        let took = net.runUntil(maxTicks: 8 * Int(failureTimeout)) { $0.agreedLeader == 4 }
        #expect(took != nil)
        #expect(net.status(4).term == 2)
        let tokens = net.sent(since: mark).filter { $0.message.kind == .ringElection || $0.message.kind == .ringElected }
        let toDead = tokens.filter { $0.to == 3 || $0.to == 5 }
        #expect(!toDead.isEmpty, "the ring first tries the dead successors")
        for attempt in toDead {
            // The same sender then hands a token to the member after the dead one(s).
            let next: NodeID = attempt.to == 3 ? 4 : 1
            #expect(tokens.contains { $0.from == attempt.from && $0.to == next }, "\(attempt) was not skipped")
        }
        // Once suspected, a dead member is not tried again within the election.
        let electedToDead = net.sent(.ringElected, since: mark).filter { $0.to == 3 || $0.to == 5 }
        #expect(electedToDead.isEmpty)
    }

    @Test("two concurrent initiators end with one leader and one elected circulation")
    func concurrentInitiators() throws {
        // The first seed whose two earliest failure timers fire on the same tick.
        let seed = firstSeed { seed -> UInt64? in
            let timeouts = (1...5).compactMap { ticksUntilInitiating(ringNode(nodeID($0), of: 5, seed: seed)) }.sorted()
            return timeouts.count == 5 && timeouts[0] == timeouts[1] ? seed : nil
        }
        var net = ringCluster(5, seed: seed)
        let first = try #require(net.runUntil(maxTicks: 30) { !$0.history.filter { $0.action.campaignPhase != nil }.isEmpty })
        let initiators = net.history.filter { $0.action.campaignPhase != nil }.map(\.node)
        #expect(initiators.count >= 2, "initiators at tick \(first): \(initiators)")

        #expect(net.runUntil(maxTicks: 40) { $0.agreedLeader != nil } != nil)
        net.run(ticks: 15)
        #expect(net.leaders == [5])
        #expect(net.agreedLeader == 5)
        #expect(net.sent(.ringElected).count == 5)
        let wins = net.history.filter { $0.action.campaignOutcome == .won }
        #expect(wins.map(\.node) == [5])
        #expect(net.live.allSatisfy { net.status($0).term == 1 })
    }

    @Test("a candidate that dies before its token comes home is replaced by a newer election")
    func candidateDyingMidElection() throws {
        var net = ringCluster(5)
        // Run until node 5 has put its own ID on the ring, then crash it.
        let sent = net.runUntil(maxTicks: 40) { net in
            net.sent(.ringElection).contains { $0.from == 5 && candidate(of: $0.message) == 5 }
        }
        try #require(sent != nil)
        net.crash(5)
        let took = net.runUntil(maxTicks: 8 * Int(failureTimeout)) { $0.agreedLeader == 4 }
        #expect(took != nil)
        #expect(net.status(4).term == 2, "the stranded epoch-1 election was superseded")
        #expect(net.actions(of: 4).contains(.campaignStarted(.vote, term: 2)))
    }

    @Test("a recovering higher ID does not take over: it follows the coordinator it hears")
    func recoveringHigherIDFollows() throws {
        var net = try electedRing()
        net.crash(5)
        try #require(net.runUntil(maxTicks: 8 * Int(failureTimeout)) { $0.agreedLeader == 4 } != nil)
        net.run(ticks: 10)
        net.restart(5)
        let mark = net.mark
        net.run(ticks: 3 * Int(failureTimeout))
        #expect(net.agreedLeader == 4)
        #expect(net.status(5).term == 2)
        #expect(net.sent(.ringElection, since: mark).isEmpty)
    }

    @Test("a partition leaves a coordinator on each side; healing merges them by (epoch, ID)")
    func partitionAndHeal() throws {
        var net = try electedRing()
        for id in net.ids where id != 5 { net.cut(5, id) }
        net.run(ticks: 6 * Int(failureTimeout))
        #expect(net.leaders == [4, 5])
        #expect(net.status(4).holdsLease && net.status(5).holdsLease)
        net.heal()
        let mark = net.mark
        #expect(net.runUntil(maxTicks: 5) { $0.agreedLeader == 4 } != nil, "5's epoch 1 yields to 4's epoch 2")
        #expect(net.sent(.ringElection, since: mark).isEmpty, "heartbeats merge the sides without an election")
        #expect(net.actions(of: 5).stepDowns == [.higherTerm])
    }

    @Test("a lone member elects itself; no transfer; shutdown steps down; foreign messages ignored")
    func apiSurface() throws {
        var node = ringNode(1, of: 1)
        _ = node.tick(times: 2 * failureTimeout)
        #expect(node.status.role == .leader)
        #expect(node.status.holdsLease)
        #expect(throws: TransferRefusal.unsupported(algorithm: "ring")) { try node.transferLeadership(to: 1) }
        #expect(node.preferredTransferTarget == nil)
        #expect(node.receive(.bullyCoordinator(BullyCoordinator(epoch: 9)), from: 1).isEmpty)
        #expect(node.shutdown().stepDowns == [.shutdown])
        #expect(!node.status.holdsLease)

        var member = ringNode(2, of: 3)
        #expect(member.receive(.voteRequest(VoteRequest(term: 5, lastLog: .empty)), from: 1).isEmpty)
        #expect(member.receive(.ringHeartbeat(RingHeartbeat(epoch: Term.maximum)), from: 1).isEmpty)
        #expect(member.status.term == 0)
        #expect(RingNode.algorithmName == "ring")
    }

    @Test("configuration validation names the offending setting")
    func configurationValidation() {
        #expect(throws: TimingConfigurationError.tooShort(setting: "acknowledgement timeout", ticks: 0, minimum: 1)) {
            try RingConfiguration(ackTimeoutTicks: 0).validate()
        }
        #expect(throws: TimingConfigurationError.tooShort(setting: "election timeout", ticks: 2, minimum: 3)) {
            try RingConfiguration(ackTimeoutTicks: 2, electionTimeoutTicks: 2).validate()
        }
        #expect(throws: Never.self) { try RingConfiguration().validate() }
    }
}

private func candidate(of message: Message) -> NodeID? {
    if case .ringElection(let token) = message { return token.candidate }
    return nil
}

extension RingNode {
    mutating func tick(times count: UInt64) -> [Action] {
        var all: [Action] = []
        for _ in 0..<count { all += tick() }
        return all
    }
}
