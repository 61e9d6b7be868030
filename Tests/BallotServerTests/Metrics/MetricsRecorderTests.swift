import BallotRuntime
import BallotCore
import BallotServer
import Testing

/// The recorder driven by real Raft cores through elections, timeouts, step-downs, a transfer and
/// a restart, checked against what the cores did and the exact synthetic instants they did it at.
@Suite struct MetricsRecorderTests {
    static let tolerance = 1e-9

    /// For each outcome, the election histogram holds exactly the campaigns the core finished,
    /// each lasting its ticks × the tick length.
    func expectCampaignsMatch(
        _ metrics: Exposition, _ finished: [(outcome: CampaignOutcome, ticks: UInt64)],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for outcome in CampaignOutcome.allCases {
            let mine = finished.filter { $0.outcome == outcome }
            let labels = ["outcome": outcome.rawValue]
            #expect(
                metrics.count("ballot_election_duration_seconds", labels) == Double(mine.count),
                "\(outcome) count", sourceLocation: sourceLocation)
            let expectedSum = mine.reduce(0.0) { $0 + seconds(RecordedCluster.tick * $1.ticks) }
            let sum = metrics.sum("ballot_election_duration_seconds", labels) ?? .nan
            #expect(abs(sum - expectedSum) < Self.tolerance, "\(outcome) sum", sourceLocation: sourceLocation)
        }
    }

    func expectClose(
        _ actual: Double?, _ expected: Double, _ comment: Comment? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(
            actual.map { abs($0 - expected) < 1e-6 } == true,
            "\(comment ?? "value"): \(String(describing: actual)) ≠ \(expected)", sourceLocation: sourceLocation)
    }

    @Test func wonElectionIsRecordedOnEveryNode() throws {
        let cluster = RecordedCluster(seed: 11)
        let elected = cluster.elect()
        let leader = try #require(elected)
        cluster.run(ticks: 2)  // Acknowledged heartbeats give the leader its lease.
        let followers = cluster.ids.filter { $0 != leader }

        for id in cluster.ids {
            let metrics = try cluster.scrape(id)
            let found = try #require(cluster.leaderFound[id]?.first)
            #expect(found.leader.id == leader)
            #expect(metrics.value("ballot_leader_changes_total") == 1)
            #expect(metrics.count("ballot_leaderless_duration_seconds") == 1)
            expectClose(metrics.sum("ballot_leaderless_duration_seconds"), seconds(found.at - cluster.base), "leaderless")
            #expect(metrics.value("ballot_has_leader") == 1)
            #expect(metrics.value("ballot_leader_id") == Double(leader.rawValue))
            #expect(metrics.value("ballot_term") == Double(cluster.status(id).term.rawValue))
            #expect(cluster.view(id).hasLeader)
            expectCampaignsMatch(metrics, cluster.finishedCampaigns[id] ?? [])
        }

        let won = try cluster.scrape(leader)
        #expect(won.count("ballot_election_duration_seconds", ["outcome": "won"]) == 1)
        // A pre-vote round trip and a vote round trip, one tick per hop.
        #expect((won.sum("ballot_election_duration_seconds", ["outcome": "won"]) ?? 0) >= 0.04 - Self.tolerance)
        #expect(won.value("ballot_role", ["role": "leader"]) == 1)
        #expect(won.value("ballot_role", ["role": "follower"]) == 0)
        #expect(won.value("ballot_is_leader") == 1)
        #expect(won.value("ballot_heartbeats_sent_total") == Double(cluster.heartbeatsSent[leader] ?? -1))
        #expect((won.value("ballot_elections_started_total", ["phase": "pre_vote"]) ?? 0) >= 1)
        #expect((won.value("ballot_elections_started_total", ["phase": "vote"]) ?? 0) >= 1)
        #expect(won.value("ballot_leader_last_contact_seconds") == 0)
        for id in followers {
            let metrics = try cluster.scrape(id)
            #expect(metrics.count("ballot_election_duration_seconds", ["outcome": "won"]) == 0)
            #expect(metrics.value("ballot_is_leader") == 0)
            #expect(metrics.value("ballot_role", ["role": "follower"]) == 1)
            #expect(metrics.value("ballot_heartbeats_sent_total") == 0)
        }

        // Scrape-time gauges age without any new batch.
        let later = cluster.now + .milliseconds(250)
        for id in cluster.ids {
            let metrics = try cluster.scrape(id, at: later)
            let found = try #require(cluster.leaderFound[id]?.first)
            expectClose(metrics.value("ballot_leader_uptime_seconds"), seconds(later - found.at), "uptime")
            expectClose(metrics.value("ballot_leader_since_timestamp_seconds"), cluster.wallClock(at: found.at), "since")
            let contact: Double =
                if id == leader { 0 } else {
                    seconds(later - (cluster.now - RecordedCluster.tick * cluster.status(id).ticksSinceLeaderContact!))
                }
            expectClose(metrics.value("ballot_leader_last_contact_seconds"), contact, "last contact")
        }
    }

    /// The lease is judged at scrape time: it ends at the instant of the last batch plus the
    /// remaining lease ticks, whether or not the core has run since.
    @Test func isLeaderDropsWhenTheLeaseInstantPassesWithoutNewBatches() throws {
        let cluster = RecordedCluster(seed: 5)
        let elected = cluster.elect()
        let leader = try #require(elected)
        cluster.run(ticks: 3)
        let status = cluster.status(leader)
        let expiry = try #require(status.leaseExpiry)
        #expect(status.holdsLease)
        let leaseEnd = cluster.now + RecordedCluster.tick * (expiry - status.now)

        #expect(try cluster.scrape(leader, at: leaseEnd - .nanoseconds(1)).value("ballot_is_leader") == 1)
        #expect(try cluster.scrape(leader, at: leaseEnd).value("ballot_is_leader") == 0)
        #expect(try cluster.scrape(leader, at: leaseEnd + .seconds(60)).value("ballot_is_leader") == 0)
        // The core still believes it leads; only the lease, judged on the monotonic clock, ran out.
        #expect(try cluster.scrape(leader, at: leaseEnd).value("ballot_role", ["role": "leader"]) == 1)
        #expect(cluster.view(leader).hasLeader)
        // Once the core runs again and heartbeats are acknowledged, the lease is back.
        cluster.run(ticks: 1)
        #expect(try cluster.scrape(leader).value("ballot_is_leader") == 1)
    }

    /// A cut-off follower's pre-vote campaigns time out; once healed, the leader's heartbeat ends
    /// the campaign in progress as lost. The same leader in the same term is not a leader change,
    /// but the leaderless stretch is a second leaderless observation.
    @Test func isolatedFollowerTimesOutThenLoses() throws {
        let cluster = RecordedCluster(seed: 23)
        let elected = cluster.elect()
        let leader = try #require(elected)
        let follower = try #require(cluster.ids.first { $0 != leader })
        let firstFound = try #require(cluster.leaderFound[follower]?.first)
        let term = cluster.status(follower).term

        cluster.isolated = [follower]
        let timedOut = cluster.run(maxTicks: 200) { c in
            (c.finishedCampaigns[follower] ?? []).contains { $0.outcome == .timedOut }
        }
        #expect(timedOut)
        var metrics = try cluster.scrape(follower)
        #expect(metrics.value("ballot_has_leader") == 0)
        #expect(!cluster.view(follower).hasLeader)
        #expect((metrics.count("ballot_election_duration_seconds", ["outcome": "timed_out"]) ?? 0) >= 1)
        #expect(metrics.value("ballot_role", ["role": "pre_candidate"]) == 1)
        #expect(metrics.value("ballot_term") == Double(term.rawValue), "pre-votes do not raise the term")
        #expect(metrics.value("ballot_leader_changes_total") == 1)
        #expect(metrics.value("ballot_leader_uptime_seconds") == 0)
        #expect(metrics.value("ballot_leader_since_timestamp_seconds") == 0)
        expectCampaignsMatch(metrics, cluster.finishedCampaigns[follower] ?? [])
        let lostAt = try #require(cluster.leaderLost[follower]?.first)
        let silentTicks = try #require(cluster.status(follower).ticksSinceLeaderContact)
        #expect(silentTicks > 0)
        expectClose(
            metrics.value("ballot_leader_last_contact_seconds"), seconds(RecordedCluster.tick * silentTicks),
            "last contact while cut off")

        let lostBefore = metrics.count("ballot_election_duration_seconds", ["outcome": "lost"])
        cluster.isolated = []
        let rejoined = cluster.run(maxTicks: 100) { $0.status(follower).leader == leader }
        #expect(rejoined)
        metrics = try cluster.scrape(follower)
        let finished = cluster.finishedCampaigns[follower] ?? []
        #expect(metrics.count("ballot_election_duration_seconds", ["outcome": "lost"]) == lostBefore.map { $0 + 1 })
        #expect(finished.filter { $0.outcome == .won }.isEmpty)
        expectCampaignsMatch(metrics, finished)
        #expect(metrics.value("ballot_leader_changes_total") == 1, "same leader, same term: no change")
        #expect(metrics.value("ballot_term") == Double(term.rawValue))
        #expect(metrics.count("ballot_leaderless_duration_seconds") == 2)
        let refound = try #require(cluster.leaderFound[follower]?.last)
        expectClose(
            metrics.sum("ballot_leaderless_duration_seconds"),
            seconds(firstFound.at - cluster.base) + seconds(refound.at - lostAt), "leaderless sum")
        // Leadership did not change, so its uptime still counts from when it was first learned.
        expectClose(metrics.value("ballot_leader_uptime_seconds"), seconds(cluster.now - firstFound.at), "uptime")
        // The history shows the loss and the same leadership found again, once each.
        #expect(cluster.view(follower).history.map(\.leader) == [leader, nil, leader])
    }

    /// Thesis §6.2: a leader cut off from the majority steps down (reason `lost_quorum`), the rest
    /// elect a new leader, and the old one follows it after the partition heals.
    @Test func isolatedLeaderStepsDownOnLostQuorum() throws {
        let cluster = RecordedCluster(seed: 31)
        let elected = cluster.elect()
        let oldLeader = try #require(elected)
        cluster.run(ticks: 2)
        let others = cluster.ids.filter { $0 != oldLeader }
        cluster.isolated = [oldLeader]

        let steppedDown = cluster.run(maxTicks: 100) { $0.status(oldLeader).role != .leader }
        #expect(steppedDown)
        let stepDown = try #require(cluster.steppedDownAt[oldLeader])
        var metrics = try cluster.scrape(oldLeader)
        #expect(metrics.value("ballot_step_downs_total", ["reason": "lost_quorum"]) == 1)
        for reason in ["higher_term", "transfer", "shutdown"] {
            #expect(metrics.value("ballot_step_downs_total", ["reason": reason]) == 0)
        }
        #expect(metrics.value("ballot_is_leader") == 0)
        #expect(metrics.value("ballot_has_leader") == 0)
        #expect(metrics.value("ballot_role", ["role": "leader"]) == 0)

        let electedAmongOthers = cluster.elect(among: others)
        let newLeader = try #require(electedAmongOthers)
        #expect(newLeader != oldLeader)
        for id in others {
            let metrics = try cluster.scrape(id)
            #expect(metrics.value("ballot_leader_changes_total") == 2)
            #expect(metrics.value("ballot_step_downs_total", ["reason": "lost_quorum"]) == 0)
            expectCampaignsMatch(metrics, cluster.finishedCampaigns[id] ?? [])
        }
        #expect(try cluster.scrape(newLeader).count("ballot_election_duration_seconds", ["outcome": "won"]) == 1)

        cluster.isolated = []
        let follows = cluster.run(maxTicks: 100) { $0.status(oldLeader).leader == newLeader }
        #expect(follows)
        metrics = try cluster.scrape(oldLeader)
        #expect(metrics.value("ballot_leader_changes_total") == 2)
        #expect(metrics.count("ballot_leaderless_duration_seconds") == 2)
        let found = try #require(cluster.leaderFound[oldLeader])
        #expect(found.count == 2)
        expectClose(
            metrics.sum("ballot_leaderless_duration_seconds"),
            seconds(found[0].at - cluster.base) + seconds(found[1].at - stepDown), "leaderless sum")
        expectCampaignsMatch(metrics, cluster.finishedCampaigns[oldLeader] ?? [])
        let changes = cluster.view(oldLeader).history.filter { $0.leader != nil }
        #expect(changes.map(\.leader) == [oldLeader, newLeader])
        #expect(changes.last?.leaderless == found[1].at - stepDown)
    }

    /// Thesis §3.10: the leader hands over to a follower; it steps down with reason `transfer`,
    /// the target wins a vote-only campaign, and every node sees a second leader change.
    @Test func leadershipTransferIsRecorded() throws {
        let cluster = RecordedCluster(seed: 47)
        let elected = cluster.elect()
        let oldLeader = try #require(elected)
        cluster.run(ticks: 3)
        let target = try #require(cluster.ids.first { $0 != oldLeader })
        let before = try cluster.scrape(target)

        try cluster.transferLeadership(from: oldLeader, to: target)
        let handedOver = cluster.run(maxTicks: 50) { $0.agreeOnLeader() == target && $0.status(target).role == .leader }
        #expect(handedOver)

        let old = try cluster.scrape(oldLeader)
        #expect(old.value("ballot_step_downs_total", ["reason": "transfer"]) == 1)
        #expect(old.value("ballot_step_downs_total", ["reason": "higher_term"]) == 0)
        #expect(old.value("ballot_leadership_transfers_total", ["outcome": "completed"]) == 1)
        #expect(old.value("ballot_leadership_transfers_total", ["outcome": "timed_out"]) == 0)
        #expect(old.value("ballot_is_leader") == 0)
        #expect(old.value("ballot_role", ["role": "follower"]) == 1)

        let new = try cluster.scrape(target)
        #expect(new.count("ballot_election_duration_seconds", ["outcome": "won"]) == 1)
        #expect(
            new.value("ballot_elections_started_total", ["phase": "vote"])
                == before.value("ballot_elections_started_total", ["phase": "vote"]).map { $0 + 1 })
        #expect(
            new.value("ballot_elections_started_total", ["phase": "pre_vote"])
                == before.value("ballot_elections_started_total", ["phase": "pre_vote"]),
            "a transfer campaign skips the pre-vote")
        // Lease succession: no lease (so not "the leader" to applications) while the old one may run.
        #expect(try cluster.scrape(target).value("ballot_is_leader") == 0)
        #expect(cluster.run(maxTicks: 50) { $0.status(target).holdsLease })
        #expect(try cluster.scrape(target).value("ballot_is_leader") == 1)

        for id in cluster.ids {
            let metrics = try cluster.scrape(id)
            #expect(metrics.value("ballot_leader_changes_total") == 2)
            #expect(metrics.value("ballot_leader_id") == Double(target.rawValue))
            #expect(metrics.value("ballot_term") == Double(cluster.status(target).term.rawValue))
            expectCampaignsMatch(metrics, cluster.finishedCampaigns[id] ?? [])
        }
    }

    /// A restarted node's fresh recorder shows the persisted term from its first scrape, and its
    /// first leaderless interval runs from start-up until it hears the leader.
    @Test func restartStartsFromPersistedTermAndStartUpLeaderlessness() throws {
        let cluster = RecordedCluster(seed: 59)
        let elected = cluster.elect()
        let leader = try #require(elected)
        cluster.run(ticks: 2)
        let follower = try #require(cluster.ids.first { $0 != leader })
        cluster.crash(follower)
        cluster.run(ticks: 7)
        let persisted = try #require(cluster.persisted[follower])
        #expect(persisted.term >= 1)

        cluster.restart(follower)
        let startedAt = cluster.now
        var metrics = try cluster.scrape(follower)
        #expect(metrics.value("ballot_term") == Double(persisted.term.rawValue))
        #expect(metrics.value("ballot_has_leader") == 0)
        #expect(metrics.value("ballot_leader_changes_total") == 0)
        #expect(metrics.count("ballot_leaderless_duration_seconds") == 0)
        #expect(metrics.value("ballot_role", ["role": "follower"]) == 1)
        #expect(metrics.value("ballot_leader_last_contact_seconds") == 0)
        let notYet = try cluster.scrape(follower, at: startedAt + .milliseconds(5))
        expectClose(notYet.value("ballot_leader_last_contact_seconds"), 0.005, "never heard: time since start-up")

        let heard = cluster.run(maxTicks: 50) { $0.status(follower).leader == leader }
        #expect(heard)
        metrics = try cluster.scrape(follower)
        let found = try #require(cluster.leaderFound[follower]?.last)
        #expect(metrics.count("ballot_leaderless_duration_seconds") == 1)
        expectClose(metrics.sum("ballot_leaderless_duration_seconds"), seconds(found.at - startedAt), "leaderless")
        #expect(metrics.value("ballot_leader_changes_total") == 1)
        #expect(metrics.value("ballot_term") == Double(persisted.term.rawValue))
        #expect(metrics.value("ballot_has_leader") == 1)
    }

    /// A one-node cluster is its own quorum: its lease never runs out, and it has no peer series.
    @Test func singleNodeLeaderHoldsAnUnboundedLease() throws {
        let cluster = RecordedCluster(size: 1, seed: 3)
        let elected = cluster.elect()
        let leader = try #require(elected)
        let metrics = try cluster.scrape(leader, at: cluster.now + .seconds(3600))
        #expect(metrics.value("ballot_is_leader") == 1)
        #expect(metrics.value("ballot_cluster_members") == 1)
        #expect(metrics.samples(named: "ballot_peer_connected").isEmpty)
        #expect(metrics.count("ballot_election_duration_seconds", ["outcome": "won"]) == 1)
    }
}
