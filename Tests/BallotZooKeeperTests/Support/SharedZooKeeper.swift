import BallotHarness
import Testing

/// A real ZooKeeper ensemble for a whole suite: started once before the suite's first test,
/// stopped after its last (Java start-up is slow). Tests reach it as ``ZooKeeperFixture/ensemble``
/// and keep out of each other's way with their own paths.
struct SharedZooKeeper: SuiteTrait, TestScoping {
    let servers: Int

    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?,
                      performing function: @Sendable () async throws -> Void) async throws {
        try await ZooKeeperEnsemble.whileRunning(servers: servers) { ensemble in
            try await ZooKeeperFixture.$current.withValue(ensemble) { try await function() }
        }
    }
}

extension Trait where Self == SharedZooKeeper {
    /// Runs the suite against one real ZooKeeper ensemble of `servers` servers.
    static func zooKeeper(servers: Int) -> Self { SharedZooKeeper(servers: servers) }
}

enum ZooKeeperFixture {
    @TaskLocal static var current: ZooKeeperEnsemble?

    /// The suite's ensemble; fails the test if the suite has none.
    static var ensemble: ZooKeeperEnsemble {
        get throws { try #require(current, "the suite needs the .zooKeeper(servers:) trait") }
    }
}
