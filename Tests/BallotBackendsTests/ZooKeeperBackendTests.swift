import BallotBackends
import BallotCore
import BallotHarness
import BallotRuntime
import BallotZooKeeper
import Foundation
import Testing

/// The ZooKeeper backend in this process against one real ZooKeeper server (Debian's `zookeeper`).
@Suite("ZooKeeper backend against a real ZooKeeper", .zooKeeper(servers: 1), .serialized)
struct ZooKeeperBackendTests {
    static func start(_ nodes: ClosedRange<UInt64>, election: ElectionName) throws -> [RunningBackend] {
        let ensemble = try #require(Fixtures.zooKeeper)
        let configuration = try ZooKeeperBackendConfiguration(
            servers: try ZooKeeperServerAddress.parseList(ensemble.connectString), election: election,
            sessionTimeout: .seconds(2), followerLag: .zero)
        return nodes.map { id in
            let node = NodeID(id)!
            let observer = CountingObserver()
            let backend = ZooKeeperBackend(configuration: configuration, node: node, view: LeadershipView(node: node),
                                           observer: observer, tokens: nil, recoveredToken: .zero, logger: testLogger)
            return RunningBackend(backend, observer: observer)
        }
    }

    static func client() async throws -> ZooKeeperClient {
        let ensemble = try #require(Fixtures.zooKeeper)
        return try await ZooKeeperClient.connect(try ZooKeeperConfiguration(connectString: ensemble.connectString))
    }

    static func watchCount() throws -> Int {
        let answer = try #require(Fixtures.zooKeeper?.servers.first?.fourLetterWord("mntr"))
        let line = try #require(answer.split(separator: "\n").first { $0.hasPrefix("zk_watch_count") })
        return try #require(Int(line.split(separator: "\t").last ?? ""))
    }

    @Test("Three candidates elect the lowest sequence; every node names it, with its czxid as the term")
    func electOne() async throws {
        let election = try freshElection("one")
        let nodes = try Self.start(1...3, election: election)
        #expect(await eventually {
            guard let leader = soleLeader(nodes) else { return false }
            return nodes.allSatisfy { $0.view.current.leader == LeaderInfo(id: leader.node, term: leader.view.current.term) }
        })
        let leader = try #require(soleLeader(nodes))
        let client = try await Self.client()
        let children = try await client.getChildren(election.zooKeeperPath).sorted()
        #expect(children.count == 3)
        let lowest = try await client.getData("\(election.zooKeeperPath)/\(children[0])")
        #expect(String(decoding: lowest.data, as: UTF8.self) == "\(leader.node)")
        #expect(UInt64(lowest.stat.czxid) == leader.view.current.term.rawValue)
        await client.close()
        for node in nodes { await node.stop() }
    }

    /// No herd: each candidate watches the one ahead of it and the leader (one watch when they are
    /// the same node), never the list of children.
    @Test("Watches: the leader its own node, the second in line one, every later candidate two, nobody a children watch")
    func onlyPredecessorAndLeaderAreWatched() async throws {
        let before = try Self.watchCount()
        let election = try freshElection("watches")
        var nodes: [RunningBackend] = []
        for id in UInt64(1)...5 {
            nodes += try Self.start(id...id, election: election)
            #expect(await eventually { nodes.allSatisfy { $0.view.current.leader != nil } })
        }
        // 5 candidates: the leader its own node, the second one (its predecessor is the leader), three more two each.
        #expect(await eventually { (try? Self.watchCount()) == before + 1 + 1 + 3 * 2 })
        // The candidate in the middle leaves: only its successor moves its predecessor watch.
        await nodes[2].stop()
        #expect(await eventually { (try? Self.watchCount()) == before + 1 + 1 + 2 * 2 })
        #expect(nodes[0].isLeader())
        for node in nodes { await node.stop() }
    }

    @Test("Closing the session (resign) deletes the candidacy at once: the next in line leads")
    func resign() async throws {
        let election = try freshElection("resign")
        let nodes = try Self.start(1...2, election: election)
        let log = LeaseLog()
        for node in nodes { log.follow(node.view) }
        #expect(await eventually { soleLeader(nodes) != nil })
        let leader = try #require(soleLeader(nodes))
        let other = try #require(nodes.first { $0 !== leader })
        await leader.stop(resign: true)
        #expect(!leader.isLeader())
        let client = try await Self.client()
        #expect(try await client.getChildren(election.zooKeeperPath).count == 1)
        await client.close()
        #expect(await eventually(within: .seconds(10)) { other.isLeader() })
        #expect(log.overlaps(endingAt: SystemMonotonicClock.now).isEmpty)
        await other.stop()
    }

    @Test("A candidacy deleted under its owner ends; the owner makes a new one behind the next leader")
    func deletedCandidacy() async throws {
        let election = try freshElection("deleted")
        let nodes = try Self.start(1...2, election: election)
        #expect(await eventually { soleLeader(nodes) != nil })
        let leader = try #require(soleLeader(nodes))
        let other = try #require(nodes.first { $0 !== leader })
        let name = try #require(await leader.backend.status().candidacy)
        let client = try await Self.client()
        try await client.delete(name)
        #expect(await eventually { other.isLeader() && !leader.isLeader() })
        #expect(await eventually { (await leader.backend.status().candidacy).map { $0 != name } ?? false })
        await client.close()
        for node in nodes { await node.stop() }
    }
}
