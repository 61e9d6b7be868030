import BallotCore
import BallotRuntime
import BallotTestKit
import Foundation
import Testing
@testable import BallotServer

/// The durable-state series, fed by the real store on a real directory: each fsync timed, each
/// failed save counted, and the halt that follows shown as `ballot_halted{reason}`.
@Suite struct DurableStateMetricsTests {
    func recorder(node: NodeID = 1) -> MetricsRecorder {
        MetricsRecorder(
            view: LeadershipView(node: node), membership: Membership([node]), algorithm: "raft", version: "t",
            tickDuration: .milliseconds(10))
    }

    func scrape(_ recorder: MetricsRecorder, at now: MonotonicInstant = SystemMonotonicClock.now) throws -> Exposition {
        try Exposition(recorder.render(now: now, wallClockNow: 1_700_000_000))
    }

    @Test func everyFsyncOfASaveIsTimed() throws {
        try withTemporaryDirectory { root in
            let recorder = recorder()
            let store = try HardStateStore(directory: root + "/d", cluster: .default, node: 1, observer: recorder)
            try store.save(HardState(term: 1, votedFor: 1, lastLog: .empty))
            try store.save(HardState(term: 2, votedFor: nil, lastLog: .empty))
            let metrics = try scrape(recorder)
            #expect(metrics.count("ballot_state_fsync_duration_seconds") == 4, "two fsyncs per save: file and directory")
            #expect((metrics.sum("ballot_state_fsync_duration_seconds") ?? -1) >= 0)
            #expect(metrics.bucket("ballot_state_fsync_duration_seconds", le: "+Inf") == 4)
            #expect(metrics.value("ballot_state_write_failures_total") == 0)
        }
    }

    /// A data directory that disappears under a running node: the save fails with ENOENT, is
    /// counted, the driver halts the node, and the scrape says why.
    @Test func aFailedSaveIsCountedAndTheHaltShown() throws {
        try withTemporaryDirectory { root in
            let recorder = recorder()
            let directory = root + "/d"
            let store = try HardStateStore(directory: directory, cluster: .default, node: 1, observer: recorder)
            let clock = ManualClock()
            let raft = RaftConfiguration(electionTimeoutTicks: 10, heartbeatIntervalTicks: 2)
            let core = ElectionAlgorithmKind.raft.makeCore(
                id: 1, membership: Membership([1]), raft: raft, hardState: store.recoveredState,
                random: SplitMix64(seed: 7))
            let driver = NodeDriver(
                core: core, tick: .milliseconds(10), electionTimeout: .milliseconds(100), store: store,
                outbox: CollectingOutbox(), clock: clock, view: recorder.view, observer: recorder)
            driver.startClock()
            try FileManager.default.removeItem(atPath: directory)
            clock.advance(by: .milliseconds(400))  // past any election timeout: the node campaigns and persists
            driver.deliverDueTicks()

            let halt = try #require(driver.halt, "the failed save must halt the node")
            #expect(halt.reason == .stateWriteFailed)
            #expect(halt.detail.contains("No such file or directory"), "\(halt.detail)")
            let metrics = try scrape(recorder, at: clock.now)
            #expect(metrics.value("ballot_state_write_failures_total") == 1)
            #expect(metrics.value("ballot_halted", ["reason": "state_write_failed"]) == 1)
            #expect(metrics.value("ballot_is_leader") == 0)
        }
    }
}
