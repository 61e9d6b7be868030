import BallotCore
import BallotHarness
import Foundation
import Glibc
import Testing

/// `ballotd` is the node alone: the same flags and behaviour as `ballot serve`.
@Suite struct BallotDTests {
    @Test func threeBallotdProcessesElectOneLeaderAndFailOver() async throws {
        try await withCluster(nodeBinary: try ballotdBinary()) { cluster in
            let first = try #require(await cluster.waitForLeader(timeout: .seconds(15)), "no leader elected")
            for node in cluster.nodes {
                let view = try #require(await cluster.leaderView(of: node.id))
                #expect(view.leader == first.self_ && view.term == first.term)
            }
            let leaderID = try #require(NodeID(first.self_))
            cluster.node(leaderID).signal(SIGKILL)
            await cluster.node(leaderID).waitForExit(timeout: .seconds(5))
            let second = await cluster.waitForLeader(excluding: leaderID, newerThan: first.term, timeout: .seconds(15))
            #expect(second != nil, "no failover among ballotd nodes")
        }
    }

    @Test func aBadFlagIsRefusedWithAMessageNamingBallotd() async throws {
        let process = try ChildProcess(
            try ballotdBinary(), arguments: ["--id", "1", "--listen", "127.0.0.1", "--data-dir", temporaryDirectory("ballotd-flag")],
            output: .null, error: .pipe)
        let (exit, text) = await process.finish(within: .seconds(20), reading: process.standardError)
        #expect(exit == .exited(78), "a configuration error exits with EX_CONFIG")
        #expect(text.contains("ballotd:") && text.contains("missing port"), "\(text)")
    }
}
