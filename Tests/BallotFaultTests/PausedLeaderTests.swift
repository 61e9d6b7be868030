import BallotRuntime
import BallotCore
import BallotHarness
import BallotClient
import Foundation
import Glibc
import Testing

/// Issue "fault injection", part 3: a leader stopped (SIGSTOP) for longer than the election timeout
/// and then resumed must never act as leader of its old term again. Requests are queued at it while
/// it sleeps (so they are the first thing it answers after SIGCONT, before its tick driver has
/// caught up), and it is polled hard on `/leader` and `/metrics` right after it resumes.
@Suite(.serialized) struct PausedLeaderTests {
    @Test(arguments: [3, 5])
    func aPausedLeaderNeverReportsItsOldLeadershipAfterResuming(nodes: Int) async throws {
        var settings = FaultCluster.Settings()
        settings.nodes = nodes
        let peerBase = LoopbackPorts.consecutiveFree(nodes, from: Int.random(in: 20_000...50_000))
        let placement = FaultCluster.Placement.loopback(
            peerBasePort: peerBase, httpBasePort: LoopbackPorts.consecutiveFree(nodes, from: peerBase + nodes))
        let directory = temporaryDirectory("paused-leader")
        let cluster = FaultCluster(settings: settings, placement: placement, binary: try ballotBinary(),
                                   dataDirectory: directory)
        try cluster.startAll()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            for round in 0..<3 {
                try await pauseAndResumeTheLeader(cluster, round: round)
            }
        } catch {
            print(cluster.logs())
            await cluster.stopAll()
            throw error
        }
        await cluster.stopAll()
        let violations = HistoryChecker().check(cluster.timeline.events, endedAt: SystemMonotonicClock.now.nanoseconds)
        #expect(violations.isEmpty, "\(violations.map(\.description).joined(separator: "\n"))")
    }

    func pauseAndResumeTheLeader(_ cluster: FaultCluster, round: Int) async throws {
        let old = try #require(await cluster.waitForStableLeader(timeout: .seconds(15)), "round \(round): no leader")
        let paused = old.self_
        cluster.pause(paused)
        let pausedAt = ContinuousClock.now
        // The others elect a newer leader while it sleeps (bounded by 20 T).
        var newer: LeaderView?
        let others = cluster.ids.filter { $0 != paused }
        for _ in 0..<400 where newer == nil && ContinuousClock.now - pausedAt < cluster.settings.electionTimeout * 20 {
            for id in others {
                if let view = await cluster.probeLeader(id), view.isLeader, view.term > old.term { newer = view }
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        let successor = try #require(newer, "round \(round): no newer leader while node \(paused) was stopped")
        // Requests that wait in the kernel for the stopped process, answered as it wakes.
        let queued = (0..<4).map { index in
            Task { () -> (Bool?, UInt64?) in
                if index % 2 == 0 {
                    let view = await cluster.probeLeader(paused, timeout: .seconds(5))
                    return (view?.isLeader, view?.term)
                }
                return (await cluster.probeMetrics(paused, timeout: .seconds(5)), nil)
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(ContinuousClock.now - pausedAt > cluster.settings.electionTimeout, "paused longer than T")
        cluster.resume(paused)
        // Hammer it for two election timeouts with concurrent pollers, each counting what it got answered:
        // a node that answers nothing after SIGCONT claims nothing, and must not pass for one that holds.
        let end = ContinuousClock.now + cluster.settings.electionTimeout * 2
        let polls = await withTaskGroup(of: (poller: Int, answered: Int, claims: [String]).self) { group in
            for poller in 0..<3 {
                group.addTask {
                    var claims: [String] = []
                    var answered = 0
                    for _ in 0..<2_000 where ContinuousClock.now < end {
                        if poller == 2 {
                            guard let isLeader = await cluster.probeMetrics(paused, timeout: .milliseconds(500)) else { continue }
                            answered += 1
                            if isLeader { claims.append("ballot_is_leader 1") }
                        } else {
                            guard let view = await cluster.probeLeader(paused, timeout: .milliseconds(500)) else { continue }
                            answered += 1
                            if view.isLeader && view.term <= old.term { claims.append("is_leader true in term \(view.term)") }
                        }
                    }
                    return (poller, answered, claims)
                }
            }
            var all: [(poller: Int, answered: Int, claims: [String])] = []
            for await poll in group { all.append(poll) }
            return all.sorted { $0.poller < $1.poller }
        }
        let claims = polls.flatMap(\.claims)
        #expect(claims.isEmpty, "round \(round): resumed node \(paused) claimed leadership: \(claims.prefix(5))")
        for poll in polls {
            let window = cluster.settings.electionTimeout * 2
            #expect(poll.answered > 0, "round \(round): poller \(poll.poller) got no answer from node \(paused) in the \(window) after SIGCONT")
        }
        for (index, task) in queued.enumerated() {
            let (isLeader, term) = await task.value
            #expect(isLeader != nil, "round \(round): request \(index), queued during the pause, was never answered")
            let claimed = isLeader == true && (term ?? 0) <= old.term
            #expect(!claimed, "round \(round): request \(index), queued during the pause, was answered is_leader=true in term \(term.map(String.init) ?? "?")")
        }
        // It learns the new term and follows.
        var learned: LeaderView?
        for _ in 0..<200 {
            if let view = await cluster.probeLeader(paused), view.term >= successor.term, view.leader != nil, !view.isLeader {
                learned = view
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(learned != nil, "round \(round): node \(paused) did not learn term \(successor.term)")
    }
}
