import BallotCore
import BallotHarness
import BallotClient
import Foundation
import Glibc
import Testing

/// Real `ballot serve` processes on loopback (issue: server and peer protocol).
@Suite(.serialized) struct ClusterProcessTests {
    @Test func threeProcessesElectOneLeaderAndFailOverAfterSIGKILL() async throws {
        try await withCluster { cluster in
            let first = try #require(await cluster.waitForLeader(timeout: .seconds(15)), "no leader elected")
            let leaderID = try #require(NodeID(first.self_))
            // Every node agrees.
            for node in cluster.nodes {
                let view = try #require(await cluster.leaderView(of: node.id))
                #expect(view.leader == first.self_ && view.term == first.term)
            }
            cluster.node(leaderID).signal(SIGKILL)
            await cluster.node(leaderID).waitForExit(timeout: .seconds(5))
            let second = try #require(await cluster.waitForLeader(excluding: leaderID, newerThan: first.term,
                                                                  timeout: .seconds(15)), "no failover")
            #expect(second.self_ != first.self_)
            #expect(second.term > first.term)
            // The killed node restarts from its data directory and follows the new leader.
            try cluster.node(leaderID).start()
            let deadline = ContinuousClock.now + .seconds(15)
            var rejoined: LeaderView?
            while ContinuousClock.now < deadline {
                rejoined = await cluster.leaderView(of: leaderID)
                if let rejoined, rejoined.leader != nil, rejoined.term >= second.term { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(rejoined?.term ?? 0 >= second.term, "restarted node kept or caught up the term")
            #expect(rejoined?.leader != nil)
        }
    }

    @Test func restartWithTheSameDataDirectoryKeepsTermAndVote() async throws {
        try await withCluster { cluster in
            let leader = try #require(await cluster.waitForLeader(timeout: .seconds(15)))
            let node = cluster.node(NodeID(leader.self_)!)
            let before = try await StatusFetch.report(port: node.httpPort)
            #expect(before.votedFor == leader.self_, "a leader voted for itself in its term")
            // Kill everyone (SIGKILL: a graceful stop would hand leadership over and so change the
            // state on purpose), then restart the old leader alone: with PreVote it cannot raise its
            // term without a quorum, so what it reports came from disk.
            for other in cluster.nodes { other.signal(SIGKILL) }
            for other in cluster.nodes { await other.waitForExit(timeout: .seconds(5)) }
            try node.start()
            var after: NodeStatusReport?
            let deadline = ContinuousClock.now + .seconds(10)
            while after == nil && ContinuousClock.now < deadline {
                after = try? await StatusFetch.report(port: node.httpPort)
                if after == nil { try await Task.sleep(for: .milliseconds(50)) }
            }
            let restored = try #require(after)
            #expect(restored.term == before.term)
            #expect(restored.votedFor == before.votedFor)
            #expect(restored.role != "leader")
            await node.stop()
        }
    }

    @Test func gracefulTransferHandsLeadershipOver() async throws {
        try await withCluster { cluster in
            let leader = try #require(await cluster.waitForLeader(timeout: .seconds(15)))
            let target = try #require(cluster.nodes.first { $0.id.rawValue != leader.self_ })
            let leaderNode = cluster.node(NodeID(leader.self_)!)
            try await Task.sleep(for: .milliseconds(200))  // Heartbeats tell the leader who is up to date.
            let response = try await HTTPClient.request(.POST, host: "127.0.0.1", port: leaderNode.httpPort,
                                                        path: "/transfer?to=\(target.id)", timeout: .seconds(5))
            #expect(response.status == 200, "\(response.text)")
            let next = try #require(await cluster.waitForLeader(newerThan: leader.term, timeout: .seconds(5)))
            #expect(next.self_ == target.id.rawValue)
            // A transfer from a follower is refused with a reason naming the leader.
            let refused = try await HTTPClient.request(.POST, host: "127.0.0.1", port: leaderNode.httpPort,
                                                       path: "/transfer?to=\(target.id)", timeout: .seconds(5))
            #expect(refused.status == 409)
            #expect(refused.text.contains("not the leader"))
        }
    }

    /// A hand-over, not a crash: a crashed leader fails over in a few tens of milliseconds too
    /// (fast failover), so speed proves nothing. Only a transfer makes the successor campaign on a
    /// `timeout_now` from the leader and skip PreVote; after a crash it must pre-vote first.
    @Test func sigtermOnTheLeaderTransfersBeforeExiting() async throws {
        try await withCluster { cluster in
            let leader = try #require(await cluster.waitForLeader(timeout: .seconds(15)))
            try await Task.sleep(for: .milliseconds(200))
            let node = cluster.node(NodeID(leader.self_)!)
            var before: [NodeID: Scrape] = [:]
            for follower in cluster.nodes where follower.id != node.id { before[follower.id] = try await Scrape.of(follower) }
            node.signal(SIGTERM)
            let status = await node.waitForExit(timeout: .seconds(10))
            #expect(status == .exited(0))
            let next = try #require(await cluster.waitForLeader(excluding: node.id, newerThan: leader.term,
                                                                timeout: .seconds(5)))
            let successor = cluster.node(try #require(NodeID(next.self_)))
            let earlier = try #require(before[successor.id])
            let after = try await Scrape.of(successor)
            func count(_ scrape: Scrape, _ name: String, _ labels: String) throws -> Double {
                try #require(scrape.value(name, labels: labels), "node \(successor.id) exports no \(name){\(labels)}")
            }
            let timeoutNow = ("ballot_peer_messages_received_total", "type=\"timeout_now\"")
            let preVotes = ("ballot_elections_started_total", "phase=\"pre_vote\"")
            let votes = ("ballot_elections_started_total", "phase=\"vote\"")
            #expect(try count(after, timeoutNow.0, timeoutNow.1) == count(earlier, timeoutNow.0, timeoutNow.1) + 1,
                    "the successor was told to campaign by the leader (one timeout_now)")
            #expect(try count(after, preVotes.0, preVotes.1) == count(earlier, preVotes.0, preVotes.1),
                    "the successor started no pre-vote: it campaigned on the transfer, not on a timeout")
            #expect(try count(after, votes.0, votes.1) == count(earlier, votes.0, votes.1) + 1,
                    "the successor won with exactly one campaign")
            // Every node saw the new leader with no leaderless gap of an election timeout, the departing
            // leader included: it waits for the transfer's outcome, so it saw its successor win before it
            // exited (a node that just exits prints nothing more).
            let everyone = Set(cluster.nodes.map(\.id.rawValue))
            var elected: [LeadershipEventLine] = []
            for _ in 0..<100 {
                elected = cluster.events.filter { $0.kind == .elected && $0.leader == next.self_ && $0.term == next.term }
                if Set(elected.map(\.node)) == everyone { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(Set(elected.map(\.node)) == everyone, "nodes that printed the new leader: \(elected.map(\.node))")
            for event in elected {
                let gap = try #require(event.leaderlessMilliseconds, "node \(event.node)'s elected line has no leaderless_ms")
                #expect(gap < 300, "node \(event.node) was leaderless for \(gap) ms")
            }
        }
    }
}

enum StatusFetch {
    static func report(port: Int) async throws -> NodeStatusReport {
        let response = try await HTTPClient.request(.GET, host: "127.0.0.1", port: port, path: "/status")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(NodeStatusReport.self, from: Data(response.body))
    }
}
