import BallotHarness
import BallotZooKeeper
import Testing

/// The client against a real three-server ZooKeeper ensemble.
@Suite("Client against a real three-server ensemble", .zooKeeper(servers: 3), .serialized)
struct EnsembleTests {
    @Test("The connected server is killed: the client resumes the same session on another member, watches included")
    func failover() async throws {
        let ensemble = try ZooKeeperFixture.ensemble
        #expect(ensemble.servers.compactMap { $0.mode() }.sorted() == ["follower", "follower", "leader"])
        var configuration = try ZooKeeperConfiguration(connectString: ensemble.connectString, sessionTimeout: .seconds(8))
        configuration.connectTimeout = .seconds(20)
        let client = try await ZooKeeperClient.connect(configuration)
        let events = EventLog(client)
        let observer = try await ZooKeeperClient.connect(configuration)
        let before = try #require(client.status.session)
        #expect(before.negotiatedTimeout == .seconds(8))

        let parent = "/failover-\(UInt32.random(in: 0...UInt32.max))"
        _ = try await client.create(parent)
        let candidate = try await client.create(parent + "/n-", mode: .ephemeralSequential)
        let watched = try await observer.create(parent + "/watched")
        #expect(try await client.exists(watched.path, watch: true) != nil)

        let connected = try #require(ensemble.servers.first { $0.clientPort == before.server.port })
        await connected.stop()
        #expect(!connected.isRunning)

        let resumed = await events.wait(upTo: .seconds(60)) { events in
            events.contains { if case .connected(let info) = $0 { info.server != before.server } else { false } }
        }
        #expect(resumed)
        let after = try #require(client.status.session)
        #expect(after.sessionID == before.sessionID)
        #expect(after.server != before.server)
        #expect(events.all.contains { if case .disconnected(before.server, _) = $0 { true } else { false } })
        #expect(!events.all.contains(.expired))

        // The session's ephemeral node survived the change of server.
        let stat = try await withRetries { try await client.exists(candidate.path) }
        #expect(stat??.ephemeralOwner == before.sessionID)
        // The watch set on the dead server was handed to the new one (SetWatches) and still fires.
        // (A retry after a lost answer may find the node already gone.)
        _ = try await withRetries {
            do {
                try await observer.delete(watched.path)
            } catch ZooKeeperError.server(.noNode, _, _) {}
        }
        #expect(await events.watch(on: watched.path, upTo: .seconds(20))?.type == .nodeDeleted)
        #expect(events.watches.count == 1)

        // The killed member restarts from its data directory and rejoins the ensemble.
        try connected.start()
        try await ensemble.waitUntilServing(timeout: .seconds(60))
        #expect(connected.mode() == "follower")

        await client.close()
        await observer.close()
    }

    /// Retries `body` on connection loss (a client between servers), at most 100 times 100 ms apart.
    private func withRetries<T>(_ body: () async throws -> T) async throws -> T? {
        for _ in 0..<100 {
            do {
                return try await body()
            } catch ZooKeeperError.connectionLoss {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        return nil
    }
}
