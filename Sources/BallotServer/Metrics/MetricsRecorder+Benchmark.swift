import BallotCore

extension MetricsRecorder {
    /// A leader's recorder for a `members`-node cluster with every series carrying data, so that a
    /// benchmark times ``render(now:wallClockNow:)`` on a realistic scrape rather than an empty one.
    public static func renderBenchmarkFixture(
        members: Int = 5, at start: ContinuousClock.Instant = .now
    ) -> MetricsRecorder {
        precondition(members >= 1, "a cluster needs at least one member")
        let ids = (1...UInt64(members)).map { NodeID(integerLiteral: $0) }
        let tick = Duration.milliseconds(10)
        let recorder = MetricsRecorder(
            nodeID: ids[0], membership: Membership(ids), algorithm: "raft", version: "benchmark", tickDuration: tick)
        func status(_ role: Role, leader: NodeID?, now: UInt64) -> NodeStatus {
            NodeStatus(
                id: ids[0], role: role, term: 1, votedFor: ids[0], leader: leader,
                lastLog: LogPosition(index: 1, term: 1), now: now,
                ticksSinceLeaderContact: role == .leader ? 0 : nil,
                leaseExpiry: role == .leader ? now + 8 : nil, transferTarget: nil)
        }
        recorder.startedUp(at: start, status: status(.follower, leader: nil, now: 0))
        let request = VoteRequest(term: 1, lastLog: .empty)
        let heartbeat = Heartbeat(term: 1, sequence: 1, leaderLog: LogPosition(index: 1, term: 1))
        recorder.record(
            [.roleChanged(.preCandidate, term: 0), .campaignStarted(.preVote, term: 1)]
                + ids.dropFirst().map { .send(.preVoteRequest(request), to: $0) },
            status: status(.preCandidate, leader: nil, now: 12), at: start + tick * 12)
        recorder.record(
            [.roleChanged(.candidate, term: 1), .campaignStarted(.vote, term: 1)]
                + ids.dropFirst().map { .send(.voteRequest(request), to: $0) },
            status: status(.candidate, leader: nil, now: 13), at: start + tick * 13)
        recorder.record(
            [.campaignFinished(.won, ticks: 2), .roleChanged(.leader, term: 1),
             .leaderChanged(LeaderInfo(id: ids[0], term: 1))]
                + ids.dropFirst().map { .send(.heartbeat(heartbeat), to: $0) },
            status: status(.leader, leader: ids[0], now: 14), at: start + tick * 14)
        for (index, peer) in ids.dropFirst().enumerated() {
            recorder.peerConnected(peer, true)
            for sample in 0..<50 {
                recorder.heartbeatRoundTrip(peer, .microseconds(200 * (index + 1) + 37 * sample))
            }
        }
        for kind in MessageKind.allCases {
            recorder.messageSent(kind, bytes: 40)
            recorder.messageReceived(kind, bytes: 40)
        }
        recorder.frameRejected(reason: "malformed")
        return recorder
    }

    /// The mean time of one ``render(now:wallClockNow:)`` of ``renderBenchmarkFixture(members:at:)``
    /// over `iterations` renders, after one warm-up render.
    public static func meanRenderTime(members: Int = 5, iterations: Int) -> Duration {
        precondition(iterations > 0, "time at least one render")
        let clock = ContinuousClock()
        let recorder = renderBenchmarkFixture(members: members, at: clock.now)
        _ = recorder.render(now: clock.now, wallClockNow: 0)
        var bytes = 0
        let elapsed = clock.measure {
            for _ in 0..<iterations {
                bytes &+= recorder.render(now: clock.now, wallClockNow: 0).count
            }
        }
        precondition(bytes > 0, "renders produced no output")
        return elapsed / iterations
    }
}
