import BallotCore
import BallotHarness
import BallotBuildInfo
import Foundation
import Glibc
import Testing

/// Issue 6: real three-process clusters of every algorithm elect a leader (and Bully's is the
/// highest live ID), over the same server, transport and metrics.
@Suite(.serialized) struct AlgorithmClusterTests {
    @Test(arguments: ["raft", "bully", "ring"])
    func aRealThreeNodeClusterElectsOneLeader(algorithm: String) async throws {
        try await withCluster(algorithm: algorithm) { cluster in
            // Bully and Ring may show a passing claim before the election settles: wait until every
            // running node names the same leader.
            let observer = FailoverBenchmark(cluster: cluster, fault: .crash, heartbeat: .milliseconds(50),
                                             electionTimeout: .milliseconds(300), seed: 1)
            let leader = try await observer.waitForStableLeader(timeout: .seconds(20))
            if algorithm == "bully" { #expect(leader.self_ == 3, "Bully: the highest live ID wins") }
            let metrics = try await Scrape.of(cluster.node(NodeID(leader.self_)!))
            // Exactly one build_info series, at 1, whose labels (in any order) name this algorithm, the
            // backend that elects (Ballot's own peers: raft) and the version.
            let buildInfo = metrics.lines.filter { $0.hasPrefix("ballot_build_info{") }
            let line = try #require(buildInfo.count == 1 ? buildInfo.first : nil, "build_info series: \(buildInfo)")
            let labels = try #require(line.split(separator: "{", maxSplits: 1).last?.split(separator: "}").first)
            let pairs = labels.split(separator: ",").map { String($0) }.sorted()
            #expect(pairs == ["algorithm=\"\(algorithm)\"", "backend=\"raft\"", "revision=\"\(BuildInfo.revision)\"",
                              "version=\"\(BuildInfo.version)\""], "\(line)")
            #expect(line.split(separator: " ").last.flatMap { Double($0) } == 1, "\(line)")
            #expect(metrics.value("ballot_role", labels: "role=\"leader\"") == 1)

            // Kill the leader: the survivors elect another (for Bully, the highest survivor).
            cluster.node(NodeID(leader.self_)!).signal(SIGKILL)
            await cluster.node(NodeID(leader.self_)!).waitForExit(timeout: .seconds(5))
            let next = try await observer.waitForStableLeader(timeout: .seconds(20))
            #expect(next.self_ != leader.self_)
            if algorithm == "bully" { #expect(next.self_ == 2) }
        }
    }
}
