import BallotHarness
import Foundation
import Testing

/// The README's quick-start command itself: `ballot local` brings up a cluster, shows a failover
/// when asked to kill leaders, and stops every child when it ends.
@Suite struct LocalCommandTests {
    @Test func ballotLocalElectsShowsAFailoverAndStopsItsChildren() async throws {
        let peerBase = LoopbackPorts.consecutiveFree(3, from: Int.random(in: 20_000...50_000))
        let httpBase = LoopbackPorts.consecutiveFree(3, from: peerBase + 3)
        let process = try ChildProcess(
            try ballotBinary(),
            arguments: [
                "local", "--duration", "5s", "--kill-leader-every", "2s", "--election-timeout", "300ms",
                "--heartbeat-interval", "50ms", "--peer-base-port", "\(peerBase)", "--http-base-port", "\(httpBase)",
                "--data-dir", temporaryDirectory("local"),
            ],
            output: .pipe, error: .standardOutput)
        let (exit, text) = await process.finish(within: .seconds(40), reading: process.standardOutput)
        #expect(exit == .exited(0), "\(text)")
        #expect(text.contains("leader is node"), "\(text)")
        #expect(text.contains("killing leader node"), "\(text)")
        #expect(text.contains("all nodes stopped"), "\(text)")
        // A failover was observed: some node learned a leader in term 2 or later.
        #expect(text.split(separator: "\n").contains { $0.contains("leader is node") && !$0.contains("term 1,") }, "\(text)")
        // No child outlives the command.
        for port in [httpBase, httpBase + 1, httpBase + 2] { #expect(!LoopbackPorts.isListening(port)) }
    }
}
