import BallotHarness
import BallotZooKeeper
import Foundation
import Testing

/// The client against one real ZooKeeper server (Debian's `zookeeper`, started once for the suite).
@Suite("Client against a real ZooKeeper server", .zooKeeper(servers: 1), .serialized)
struct StandaloneServerTests {
    static func connect(timeout: Duration = .seconds(4), through port: Int? = nil) async throws -> ZooKeeperClient {
        let ensemble = try ZooKeeperFixture.ensemble
        var configuration = try ZooKeeperConfiguration(connectString: ensemble.connectString, sessionTimeout: timeout)
        if let port { configuration.servers = [ZooKeeperServerAddress(host: "127.0.0.1", port: port)] }
        configuration.connectTimeout = .seconds(20)
        return try await connectClient(configuration)
    }

    /// A fresh persistent parent for one test.
    static func freshPath(_ client: ZooKeeperClient, _ name: String) async throws -> String {
        let path = "/\(name)-\(UInt32.random(in: 0...UInt32.max))"
        _ = try await client.create(path)
        return path
    }

    @Test("Connect: the session and the server's negotiated timeout (clamped to its bounds) are reported")
    func negotiate() async throws {
        let client = try await Self.connect(timeout: .seconds(100))
        let events = EventLog(client)
        let status = client.status
        let session = try #require(status.session)
        #expect(status.state == .connected)
        #expect(session.sessionID != 0)
        // The suite's server allows 0.5 s to 30 s: asking for 100 s gets 30 s.
        #expect(session.negotiatedTimeout == .seconds(30))
        #expect(session.readOnly == false)
        #expect(status.lastAnsweredRequestSentAt != nil)
        let short = try await Self.connect(timeout: .milliseconds(100))
        #expect(short.status.session?.negotiatedTimeout == .milliseconds(500))
        #expect(short.status.session?.sessionID != session.sessionID)
        await short.close()
        #expect(await events.wait(upTo: .seconds(5)) { $0.first == .connected(session) })
        await client.close()
        #expect(await events.wait(upTo: .seconds(5)) { _ in events.isFinished })
        #expect(events.all == [.connected(session), .closed])
        await #expect(throws: ZooKeeperError.closed) { _ = try await client.exists("/") }
    }

    @Test("Election: ephemeral-sequential candidates, children, sequence numbers, czxid and owners")
    func candidates() async throws {
        let clients = [try await Self.connect(), try await Self.connect(), try await Self.connect()]
        let election = try await Self.freshPath(clients[0], "election")
        var created: [CreatedNode] = []
        for client in clients {
            created.append(try await client.create(election + "/n-", data: Array("candidate".utf8), mode: .ephemeralSequential))
        }
        #expect(created.map(\.sequence) == [0, 1, 2])
        #expect(created.map(\.path) == (0...2).map { election + "/n-000000000\($0)" })
        // Both tokens only grow with creation order.
        #expect(created.map(\.stat.czxid) == created.map(\.stat.czxid).sorted())
        #expect(Set(created.map(\.stat.czxid)).count == 3)
        for (client, node) in zip(clients, created) {
            #expect(node.stat.ephemeralOwner == client.status.session?.sessionID)
        }
        let children = try await clients[1].getChildren(election)
        #expect(children.sorted() == ["n-0000000000", "n-0000000001", "n-0000000002"])
        #expect(children.compactMap { ZooKeeperPath.sequenceNumber(ofName: $0[...]) }.sorted() == [0, 1, 2])
        let read = try await clients[2].getData(created[0].path)
        #expect(read.data == Array("candidate".utf8))
        #expect(read.stat.czxid == created[0].stat.czxid)
        #expect(try await clients[2].exists(created[1].path)?.czxid == created[1].stat.czxid)
        // create's error codes, as typed errors.
        await #expect(throws: ZooKeeperError.server(.nodeExists, operation: .create2, path: election)) {
            _ = try await clients[0].create(election)
        }
        await #expect(throws: ZooKeeperError.server(.noNode, operation: .create2, path: election + "/missing/x")) {
            _ = try await clients[0].create(election + "/missing/x")
        }
        await #expect(throws: ZooKeeperError.server(.noChildrenForEphemerals, operation: .create2, path: created[0].path + "/x")) {
            _ = try await clients[0].create(created[0].path + "/x")
        }
        await #expect(throws: ZooKeeperError.server(.invalidACL, operation: .create2, path: election + "/no-acl")) {
            _ = try await clients[0].create(election + "/no-acl", acl: [])
        }
        await #expect(throws: ZooKeeperError.invalidPath("election", problem: "a path must start with /")) {
            _ = try await clients[0].create("election")
        }
        await #expect(throws: ZooKeeperError.server(.notEmpty, operation: .delete, path: election)) {
            try await clients[0].delete(election)
        }
        #expect(try await clients[0].exists(election + "/missing") == nil)
        for client in clients { await client.close() }
    }

    @Test("Watching the predecessor: exists and getData watches fire once when it is deleted")
    func predecessorWatch() async throws {
        let leader = try await Self.connect()
        let follower = try await Self.connect()
        let events = EventLog(follower)
        let election = try await Self.freshPath(leader, "watch")
        let first = try await leader.create(election + "/n-", mode: .ephemeralSequential)
        let second = try await leader.create(election + "/n-", mode: .ephemeralSequential)
        #expect(try await follower.exists(first.path, watch: true) != nil)
        _ = try await follower.getData(second.path, watch: true)
        _ = try await follower.getChildren(election, watch: true)
        try await leader.delete(first.path)
        #expect(await events.watch(on: first.path, upTo: .seconds(10)) == WatcherEvent(type: .nodeDeleted, path: first.path))
        #expect(await events.watch(on: election, upTo: .seconds(10)) == WatcherEvent(type: .nodeChildrenChanged, path: election))
        try await leader.delete(second.path)
        #expect(await events.watch(on: second.path, upTo: .seconds(10)) == WatcherEvent(type: .nodeDeleted, path: second.path))
        // Watches are one-shot: another change to the children fires nothing more.
        _ = try await leader.create(election + "/n-", mode: .ephemeralSequential)
        _ = try await follower.exists(election)
        #expect(events.watches.count == 3)
        // A watch on a node that does not exist yet fires on its creation.
        #expect(try await follower.exists(election + "/later", watch: true) == nil)
        _ = try await leader.create(election + "/later")
        #expect(await events.watch(on: election + "/later", upTo: .seconds(10)) == WatcherEvent(type: .nodeCreated, path: election + "/later"))
        await leader.close()
        await follower.close()
    }

    @Test("A watch event reaches the stream before the reply the server sent after it")
    func watchBeforeReply() async throws {
        let client = try await Self.connect()
        let path = try await Self.freshPath(client, "order")
        _ = try await client.getData(path, watch: true)
        let before = client.status.eventsDelivered
        try await client.delete(path)
        // The server queued the notification before the delete's reply; the client hands it to
        // the stream before it resumes this call.
        #expect(client.status.eventsDelivered == before + 1)
        await client.close()
    }

    @Test("An ephemeral node disappears when its session is closed")
    func ephemeralGoesWithClose() async throws {
        let owner = try await Self.connect()
        let observer = try await Self.connect()
        let events = EventLog(observer)
        let parent = try await Self.freshPath(observer, "close")
        let node = try await owner.create(parent + "/n-", mode: .ephemeralSequential)
        #expect(try await observer.exists(node.path, watch: true) != nil)
        await owner.close()
        #expect(await events.watch(on: node.path, upTo: .seconds(10))?.type == .nodeDeleted)
        #expect(try await observer.exists(node.path) == nil)
        await observer.close()
    }

    @Test("Idle, pings keep the session and move lastAnsweredRequestSentAt forward")
    func idlePings() async throws {
        let client = try await Self.connect(timeout: .milliseconds(900))
        let events = EventLog(client)
        let timeout = try #require(client.status.session?.negotiatedTimeout)
        let first = try #require(client.status.lastAnsweredRequestSentAt)
        // Several timeouts without a request: only pings keep the session alive.
        let moved = await eventually(upTo: .seconds(20)) {
            guard let latest = client.status.lastAnsweredRequestSentAt else { return false }
            return latest - first > timeout * 2
        }
        #expect(moved)
        #expect(client.status.state == .connected)
        #expect(try await client.exists("/") != nil)
        await client.close()
        #expect(events.all.first.map { if case .connected = $0 { true } else { false } } == true)
        #expect(!events.all.contains { if case .disconnected = $0 { true } else { false } })
    }

    @Test("A silenced client's session expires: its ephemeral node goes, no earlier than its last answer + timeout")
    func expiry() async throws {
        let ensemble = try ZooKeeperFixture.ensemble
        let proxy = try await LoopbackProxy.start(to: ensemble.servers[0].clientPort)
        defer { Task { await proxy.stop() } }
        let owner = try await Self.connect(timeout: .seconds(1), through: proxy.port)
        let ownerEvents = EventLog(owner)
        let observer = try await Self.connect()
        let observerEvents = EventLog(observer)
        let parent = try await Self.freshPath(observer, "expiry")
        let node = try await owner.create(parent + "/n-", mode: .ephemeralSequential)
        let timeout = try #require(owner.status.session?.negotiatedTimeout)
        #expect(timeout == .seconds(1))
        #expect(try await observer.exists(node.path, watch: true) != nil)

        proxy.partition()
        let deleted = await observerEvents.watch(on: node.path, upTo: .seconds(30))
        let observedAt = ContinuousClock.now
        #expect(deleted?.type == .nodeDeleted)
        // The client stopped hearing from the server: it reported the disconnection, not expiry.
        #expect(ownerEvents.all.contains { if case .disconnected(_, .timedOut) = $0 { true } else { false } })
        #expect(!ownerEvents.all.contains(.expired))
        // The ensemble cannot have expired the session before (send time of the last answered
        // request) + timeout: the bound the backend's leadership claim relies on.
        let lastAnswered = try #require(owner.status.lastAnsweredRequestSentAt)
        #expect(lastAnswered + timeout <= observedAt)

        proxy.heal()
        #expect(await ownerEvents.wait(upTo: .seconds(30)) { $0.last == .expired })
        #expect(await ownerEvents.wait(upTo: .seconds(5)) { _ in ownerEvents.isFinished })
        #expect(owner.status.state == .expired)
        await #expect(throws: ZooKeeperError.sessionExpired) {
            _ = try await owner.create(parent + "/n-", mode: .ephemeralSequential)
        }
        #expect(try await observer.getChildren(parent).isEmpty)
        await owner.close()
        await observer.close()
    }
}
