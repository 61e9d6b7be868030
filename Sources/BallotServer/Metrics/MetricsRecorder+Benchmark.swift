import BallotCore
import BallotRuntime

extension MetricsRecorder {
    /// A leader's recorder for a `members`-node cluster with every series carrying data, so that a
    /// benchmark times ``render(now:wallClockNow:)`` on a realistic scrape rather than an empty one.
    public static func renderBenchmarkFixture(
        members: Int = 5, at start: MonotonicInstant = SystemMonotonicClock.now
    ) -> MetricsRecorder {
        precondition(members >= 1, "a cluster needs at least one member")
        let ids = (1...UInt64(members)).map { NodeID(integerLiteral: $0) }
        let tick = Duration.milliseconds(10)
        let view = LeadershipView(node: ids[0])
        let recorder = MetricsRecorder(
            view: view, membership: Membership(ids), algorithm: "raft", version: "benchmark", tickDuration: tick)
        view.start(at: start, role: .follower, term: 0)
        /// Feeds one batch to the recorder and the view, as a node driver would.
        func batch(_ actions: [Action], role: Role, atTick ticks: Int) {
            let instant = start + tick * ticks
            recorder.executed(actions, at: instant)
            view.absorb(actions, role: role, term: 1, lease: role == .leader ? .until(instant + tick * 8) : .none,
                        lastContact: role == .leader ? instant : nil, at: instant)
        }
        let request = VoteRequest(term: 1, lastLog: .empty)
        let heartbeat = Heartbeat(term: 1, sequence: 1, leaderLog: LogPosition(index: 1, term: 1))
        batch([.roleChanged(.preCandidate, term: 0), .campaignStarted(.preVote, term: 1)]
                + ids.dropFirst().map { .send(.preVoteRequest(request), to: $0) },
              role: .preCandidate, atTick: 12)
        batch([.roleChanged(.candidate, term: 1), .campaignStarted(.vote, term: 1)]
                + ids.dropFirst().map { .send(.voteRequest(request), to: $0) },
              role: .candidate, atTick: 13)
        batch([.campaignFinished(.won, ticks: 2), .roleChanged(.leader, term: 1),
               .leaderChanged(LeaderInfo(id: ids[0], term: 1))]
                + ids.dropFirst().map { .send(.heartbeat(heartbeat), to: $0) },
              role: .leader, atTick: 14)
        for (index, peer) in ids.dropFirst().enumerated() {
            recorder.peerConnected(peer, true)
            for sample in 0..<50 {
                recorder.heartbeatAcknowledged(by: peer, after: .microseconds(200 * (index + 1) + 37 * sample))
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
        let recorder = renderBenchmarkFixture(members: members)
        _ = recorder.render(now: SystemMonotonicClock.now, wallClockNow: 0)
        var bytes = 0
        let elapsed = clock.measure {
            for _ in 0..<iterations {
                bytes &+= recorder.render(now: SystemMonotonicClock.now, wallClockNow: 0).count
            }
        }
        precondition(bytes > 0, "renders produced no output")
        return elapsed / iterations
    }
}
