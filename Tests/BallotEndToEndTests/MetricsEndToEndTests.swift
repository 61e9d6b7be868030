import BallotCore
import BallotHarness
import BallotClient
import Foundation
import Glibc
import Testing

/// The metrics and health endpoints of real processes through elections and failovers.
@Suite(.serialized) struct MetricsEndToEndTests {
    @Test func promtoolFindsNothingWrongInARealScrapeOfEveryNode() async throws {
        try await withCluster { cluster in
            _ = try #require(await cluster.waitForLeader(timeout: .seconds(15)))
            for node in cluster.nodes {
                let scrape = try await HTTPClient.request(.GET, host: "127.0.0.1", port: node.httpPort, path: "/metrics")
                #expect(scrape.status == 200)
                #expect(scrape.headers.contains { $0.0.lowercased() == "content-type" && $0.1 == "text/plain; version=0.0.4; charset=utf-8" })
                let (status, output) = try Promtool.checkMetrics(scrape.body)
                #expect(status == 0 && output.isEmpty, "promtool on node \(node.id): \(output)")
            }
        }
    }

    /// Issue 4's "done when": after the leader is killed, every survivor counts the change and
    /// records its leaderless time, the new leader records a won election, uptime restarts — and
    /// `ballot_is_leader` summed over the cluster never exceeds 1 along the way.
    @Test func aKilledLeaderMovesTheMetricsOnEverySurvivor() async throws {
        try await withCluster { cluster in
            let first = try #require(await cluster.waitForLeader(timeout: .seconds(15)))
            try await Task.sleep(for: .milliseconds(300))
            let old = try #require(NodeID(first.self_))
            let survivors = cluster.nodes.filter { $0.id != old }
            var before: [NodeID: Scrape] = [:]
            for node in survivors { before[node.id] = try await Scrape.of(node) }

            cluster.node(old).signal(SIGKILL)
            let killedAt = ContinuousClock.now
            var maxLeaders = 0.0
            var failedScrapes: [String] = []
            var newLeader: LeaderView?
            for _ in 0..<500 where newLeader == nil {
                var sum = 0.0
                for node in survivors {
                    // A survivor must always answer: a failed scrape is counted, never read as 0.
                    do {
                        guard let value = try await Scrape.of(node).value("ballot_is_leader") else {
                            failedScrapes.append("node \(node.id): no ballot_is_leader sample")
                            continue
                        }
                        sum += value
                    } catch {
                        failedScrapes.append("node \(node.id): \(error)")
                    }
                }
                maxLeaders = max(maxLeaders, sum)
                if let leader = await cluster.currentLeader(among: survivors.map(\.id)), leader.term > first.term {
                    newLeader = leader
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            let leader = try #require(newLeader, "no new leader")
            #expect(failedScrapes.isEmpty, "\(failedScrapes.count) failed scrapes of survivors: \(failedScrapes.prefix(5))")
            #expect(maxLeaders <= 1, "ballot_is_leader summed over the survivors reached \(maxLeaders)")
            try await Task.sleep(for: .milliseconds(200))
            for node in survivors {
                let after = try await Scrape.of(node)
                // Read after the scrape, so the bound holds however long the scrape took.
                let sinceKill = (ContinuousClock.now - killedAt).milliseconds / 1000
                let earlier = try #require(before[node.id])
                #expect(after.value("ballot_leader_changes_total")! > earlier.value("ballot_leader_changes_total")!,
                        "node \(node.id) counted the change")
                #expect(after.value("ballot_leaderless_duration_seconds_count")!
                        > earlier.value("ballot_leaderless_duration_seconds_count")!, "node \(node.id) recorded the failover")
                #expect(after.value("ballot_leader_uptime_seconds")! < sinceKill, "uptime restarted from zero on node \(node.id)")
                #expect(after.value("ballot_term")! == Double(leader.term))
                if node.id.rawValue == leader.self_ {
                    #expect(after.value("ballot_election_duration_seconds_count", labels: "outcome=\"won\"")!
                            == earlier.value("ballot_election_duration_seconds_count", labels: "outcome=\"won\"")! + 1,
                            "exactly one won observation on the new leader")
                    #expect(after.value("ballot_is_leader") == 1)
                } else {
                    #expect(after.value("ballot_is_leader") == 0)
                }
            }
        }
    }

    /// `/readyz` turns 503 after losing the leader (a paused leader gives no evidence, so this is the
    /// slow path: one election timeout) and back to 200 once a new leader is known. The bound is ten
    /// times the expected 450 ms: the behaviour is under test here, not the speed on a shared machine.
    @Test func readyzFollowsTheLeader() async throws {
        try await withCluster(electionTimeout: "300ms", heartbeat: "50ms") { cluster in
            let first = try #require(await cluster.waitForLeader(timeout: .seconds(15)))
            let old = cluster.node(NodeID(first.self_)!)
            let follower = try #require(cluster.nodes.first { $0.id != old.id })
            #expect(try await Ready.status(follower) == 200)
            old.signal(SIGSTOP)
            let stoppedAt = ContinuousClock.now
            var unreadyAfter: Duration?
            var readyAgainAfter: Duration?
            for _ in 0..<1_000 where readyAgainAfter == nil {
                let status = try await Ready.status(follower)
                let elapsed = ContinuousClock.now - stoppedAt
                if status == 503 && unreadyAfter == nil { unreadyAfter = elapsed }
                if status == 200 && unreadyAfter != nil { readyAgainAfter = elapsed }
                try await Task.sleep(for: .milliseconds(5))
            }
            old.signal(SIGCONT)
            let unready = try #require(unreadyAfter, "readyz never turned 503")
            // Expected: one election timeout after the last heartbeat, plus the heartbeat interval and
            // polling slack (450 ms); bounded at ten times that.
            #expect(unready < .milliseconds((300 + 50 + 100) * 10), "503 after \(unready)")
            #expect(readyAgainAfter != nil, "readyz never came back")
            let leader = try #require(await cluster.waitForLeader(timeout: .seconds(5)))
            #expect(leader.term > first.term)
        }
    }
}

/// One parsed `/metrics` exposition.
struct Scrape {
    let lines: [Substring]

    /// Scrapes `node`; anything but a 200 throws, so a failed scrape is never read as data.
    static func of(_ node: NodeProcess) async throws -> Scrape {
        let response = try await HTTPClient.request(.GET, host: "127.0.0.1", port: node.httpPort, path: "/metrics")
        guard response.status == 200 else {
            throw HarnessError("GET /metrics of node \(node.id) answered \(response.status): \(response.text.prefix(200))")
        }
        return Scrape(lines: response.text.split(separator: "\n"))
    }

    /// The value of `name`, or of `name{labels}` when labels are given (e.g. `outcome="won"`).
    func value(_ name: String, labels: String? = nil) -> Double? {
        let prefix = labels.map { "\(name){\($0)} " } ?? "\(name) "
        guard let line = lines.first(where: { $0.hasPrefix(prefix) }) else { return nil }
        return Double(line.dropFirst(prefix.count).split(separator: " ")[0])
    }
}

enum Ready {
    static func status(_ node: NodeProcess) async throws -> Int {
        try await HTTPClient.request(.GET, host: "127.0.0.1", port: node.httpPort, path: "/readyz", timeout: .seconds(1)).status
    }
}

/// Debian's real `promtool`; its absence is a failure that says how to fix it, never a skip.
enum Promtool {
    static func path() throws -> String {
        for candidate in ["/usr/bin/promtool", "/usr/local/bin/promtool"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw HarnessError("promtool not found: install Debian's `prometheus` package (scripts/test.sh does it)")
    }

    static func checkMetrics(_ exposition: [UInt8]) throws -> (Int32, String) {
        let process = try ChildProcess(try path(), arguments: ["check", "metrics"], input: .pipe, output: .pipe,
                                       error: .standardOutput)
        try process.standardInput?.write(exposition)
        process.standardInput?.close()
        let text = process.standardOutput?.readText() ?? ""
        let exit = process.waitForExitBlocking(timeout: .seconds(60))
        return (exit?.shellStatus ?? -1, text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
