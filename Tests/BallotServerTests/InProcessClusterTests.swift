import BallotRuntime
import BallotCore
import BallotHarness
import Logging
import ServiceLifecycle
import Testing

@testable import BallotServer

/// Three complete nodes (transport, HTTP, metrics, durable state) in one process on free loopback
/// ports: proves the shell without process boundaries.
@Suite struct InProcessClusterTests {
    @Test func threeNodesInOneProcessElectExactlyOneLeader() async throws {
        let peerBase = LoopbackPorts.consecutiveFree(3, from: Int.random(in: 30_000...45_000))
        let root = "/tmp/ballot-inprocess-\(UInt32.random(in: 0...UInt32.max))"
        var servers: [NodeServer] = []
        for i in 1...3 {
            var settings = NodeSettings()
            try settings.apply(flag: .id, value: "\(i)")
            try settings.apply(flag: .listen, value: "127.0.0.1:\(peerBase + i - 1)")
            try settings.apply(flag: .dataDirectory, value: "\(root)/\(i)")
            try settings.apply(flag: .electionTimeout, value: "300ms")
            try settings.apply(flag: .heartbeatInterval, value: "50ms")
            for j in 1...3 where j != i {
                try settings.apply(flag: .peers, value: "\(j)=127.0.0.1:\(peerBase + j - 1)")
            }
            let configuration = try NodeConfiguration.load(configFile: nil, flags: settings)
            var logger = Logger(label: "node\(i)")
            logger.logLevel = .warning
            servers.append(try await NodeServer(configuration: configuration, logger: logger))
        }
        let group = ServiceGroup(configuration: .init(
            services: servers.map { .init(service: $0) }, logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var leaders: [Leadership] = []
            let deadline = ContinuousClock.now + .seconds(15)
            while ContinuousClock.now < deadline {
                var views: [Leadership] = []
                for server in servers { views.append(await server.node.leadership) }
                leaders = views.filter(\.isSelf)
                let agreed = Set(views.map(\.leader)).count == 1 && views[0].leader != nil
                if leaders.count == 1 && agreed { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(leaders.count == 1, "exactly one node holds a lease")
            let leader = try #require(leaders.first)
            for server in servers {
                let view = await server.node.leadership
                #expect(view.leader == leader.leader && view.term == leader.term)
            }
            // Every node's metrics agree: exactly one exports 1, the others 0 (a missing sample is nil,
            // and fails the comparison rather than cancelling another node's 1).
            let isLeader = servers.map { server in metricValue(server.node.recorder, "ballot_is_leader") }
            #expect(isLeader.compactMap(\.self).sorted() == [0, 0, 1] && !isLeader.contains(nil),
                    "ballot_is_leader of the three nodes: \(isLeader)")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}

/// Reads one unlabelled sample from a recorder's exposition.
func metricValue(_ recorder: MetricsRecorder, _ name: String) -> Double? {
    let text = String(decoding: recorder.render(now: SystemMonotonicClock.now, wallClockNow: 0), as: UTF8.self)
    for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
        return Double(line.split(separator: " ")[1])
    }
    return nil
}
