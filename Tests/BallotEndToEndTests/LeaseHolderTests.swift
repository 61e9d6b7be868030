import BallotClient
import BallotCore
import BallotHarness
import Foundation
import Glibc
import Testing

/// Issue 15, released hand-overs, on real `ballot serve` processes with curl as the lease holder:
/// a successor's lease begins before the old deadline only once every holder said it stopped.
@Suite(.serialized) struct LeaseHolderTests {
    func url(_ cluster: LocalCluster, _ id: NodeID, _ path: String) -> String {
        "http://127.0.0.1:\(cluster.node(id).httpPort)\(path)"
    }

    /// Node `node`'s lease lines of `term` (begin/extend: `until > from`), and its release lines.
    func leases(_ cluster: LocalCluster, _ node: NodeID, term: UInt64) -> [LeaseEventLine] {
        cluster.otherEventLines.compactMap { $0.node == node ? LeaseEventLine(parsing: $0.line) : nil }
            .filter { $0.term == term && !$0.ends }
    }

    func releases(_ cluster: LocalCluster, _ node: NodeID) -> [LeaseReleasedLine] {
        cluster.otherEventLines.compactMap { $0.node == node ? LeaseReleasedLine(parsing: $0.line) : nil }
    }

    /// Waits (bounded) for `node`'s first lease line of `term`.
    func firstLease(_ cluster: LocalCluster, _ node: NodeID, term: UInt64) async -> LeaseEventLine? {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let first = leases(cluster, node, term: term).first { return first }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    @Test func aHolderDecidesWhetherTheSuccessorWaitsForTheDeadline() async throws {
        try await withApplicationCluster { cluster in
            let view = try #require(await cluster.waitForLeader(timeout: .seconds(15)))
            let first = try #require(NodeID(view.self_))
            let second = try #require(cluster.nodes.first { $0.id != first }).id
            try await Task.sleep(for: .milliseconds(200))

            // Refusals, on a real socket: no id, no index, an unknown holder.
            let noID = try await curl(["-X", "POST", url(cluster, first, "/holder/stopped?index=1")])
            #expect(noID.status == 400 && noID.body.contains("?id="), "\(noID.body)")
            let noIndex = try await curl(["-X", "POST", url(cluster, first, "/holder/stopped?id=abc")])
            #expect(noIndex.status == 400 && noIndex.body.contains("?index="), "\(noIndex.body)")
            let unknown = try await curl(["-X", "POST", url(cluster, first, "/holder/stopped?id=abc&index=1")])
            #expect(unknown.status == 404 && unknown.body.contains("no lease holder abc"), "\(unknown.body)")

            // 1. A holder on the leader that never says it stopped: the successor waits for the deadline.
            let silent = try SSEStream(url: url(cluster, first, "/holder"))
            defer { silent.stop() }
            #expect(await silent.wait(timeout: .seconds(5)) { $0.first?.event == "state" })
            #expect(silent.headers.contains("ballot-holder: "), "\(silent.headers)")
            let status = try await curl([url(cluster, first, "/status")])
            #expect(jsonObject(status.body)?["lease_holders"] as? Int == 1, "\(status.body)")
            let oldTerm = UInt64(view.term)
            let moved = try await curl(["-X", "POST", url(cluster, first, "/transfer?to=\(second)")])
            #expect(moved.status == 200, "\(moved.body)")
            let waited = try #require(await firstLease(cluster, second, term: oldTerm + 1), "no lease of term \(oldTerm + 1)")
            let oldDeadline = try #require(leases(cluster, first, term: oldTerm).compactMap(\.until).max())
            #expect(waited.from >= oldDeadline, "began \((Double(oldDeadline) - Double(waited.from)) / 1e6) ms before the deadline")
            #expect(releases(cluster, first).isEmpty, "released although its holder never said it stopped")
            silent.stop()

            // 2. A holder on the new leader that says so as soon as it saw the lease end: released.
            try await Task.sleep(for: .milliseconds(400))
            let holder = try SSEStream(url: url(cluster, second, "/holder"))
            defer { holder.stop() }
            #expect(await holder.wait(timeout: .seconds(5)) { $0.first?.bool("is_leader") == true })
            let id = try #require(holder.headers.split(separator: "\r\n").first { $0.hasPrefix("ballot-holder: ") }?
                .dropFirst("ballot-holder: ".count)).trimmingCharacters(in: .whitespaces)
            let term = oldTerm + 1
            let back = Task { try await curl(["-X", "POST", url(cluster, second, "/transfer?to=\(first)")]) }
            #expect(await holder.wait(timeout: .seconds(5)) { $0.contains { $0.event == "lease" && $0.bool("ends") == true } })
            let end = try #require(holder.events.first { $0.event == "lease" && $0.bool("ends") == true })
            let confirmed = try await curl(["-X", "POST", url(cluster, second, "/holder/stopped?id=\(id)&index=\(end.id ?? "0")")])
            #expect(confirmed.status == 200 && confirmed.body.contains("\"stopped_through\""), "\(confirmed.body)")
            #expect(try await back.value.status == 200)
            let released = try #require(await firstLease(cluster, first, term: term + 1), "no lease of term \(term + 1)")
            let secondDeadline = try #require(leases(cluster, second, term: term).compactMap(\.until).max())
            #expect(released.from < secondDeadline, "the successor waited for the deadline although the holder stopped")
            #expect(releases(cluster, second).map(\.term) == [term])
            let metrics = try await curl([url(cluster, second, "/metrics")])
            #expect(metrics.body.contains("ballot_lease_releases_total 1"), "\(metrics.body.prefix(200))")
        }
    }
}
