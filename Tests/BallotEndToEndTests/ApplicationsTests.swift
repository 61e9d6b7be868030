import BallotClient
import BallotCore
import BallotHarness
import Foundation
import Glibc
import Testing

/// Issue 15 on real `ballot serve` processes: every application endpoint, with curl as the client.
@Suite(.serialized) struct ApplicationsTests {
    func url(_ cluster: LocalCluster, _ id: NodeID, _ path: String) -> String {
        "http://127.0.0.1:\(cluster.node(id).httpPort)\(path)"
    }

    func leaderID(_ view: LeaderView) throws -> NodeID { try #require(NodeID(view.self_)) }

    // MARK: GET /leader

    @Test func leaderReportsIndexLeaseAndTheLeadersURL() async throws {
        try await withApplicationCluster { cluster in
            let leader = try #require(await cluster.waitForLeader(timeout: .seconds(15)))
            try await Task.sleep(for: .milliseconds(300))  // Every node learns the others' URLs.
            for node in cluster.nodes {
                let answer = try await curl([url(cluster, node.id, "/leader")])
                #expect(answer.status == 200)
                let body = try #require(jsonObject(answer.body), "\(answer.body)")
                for key in ["self", "leader", "term", "is_leader", "index", "lease_remaining_ms", "leader_http"] {
                    #expect(body[key] != nil, "\(key) missing from \(answer.body)")
                }
                #expect(body["leader_http"] as? String == "http://127.0.0.1:\(cluster.node(try leaderID(leader)).httpPort)")
                #expect((body["index"] as? NSNumber)?.intValue ?? 0 > 0)
                if node.id.rawValue == leader.self_ {
                    let remaining = try #require((body["lease_remaining_ms"] as? NSNumber)?.doubleValue)
                    #expect(remaining > 0 && remaining <= 300)
                } else {
                    #expect(body["lease_remaining_ms"] is NSNull)
                }
            }
            // Bad queries are refused precisely.
            for query in ["index=abc", "index=-1", "wait=1s", "index=1&wait=10m", "index=1&wait=5x"] {
                let answer = try await curl([url(cluster, 1, "/leader?\(query)")])
                #expect(answer.status == 400, "\(query): \(answer.body)")
                #expect(jsonObject(answer.body)?["error"] is String)
            }
        }
    }

    @Test func aBlockingQueryAnswersWhenTheIndexMovesOrItsWaitRunsOut() async throws {
        try await withApplicationCluster { cluster in
            let leader = try #require(await cluster.waitForLeader(timeout: .seconds(15)))
            let follower = try #require(cluster.nodes.first { $0.id.rawValue != leader.self_ })
            let now = try #require(await cluster.leaderView(of: follower.id))
            // Nothing changes: the answer comes when the wait runs out, with the same index.
            let started = ContinuousClock.now
            let idle = try await curl([url(cluster, follower.id, "/leader?index=\(now.index)&wait=400ms")])
            #expect(ContinuousClock.now - started >= .milliseconds(400))
            #expect(jsonObject(idle.body)?["index"] as? NSNumber == NSNumber(value: now.index))
            // A change wakes it: the leader resigns while the query waits.
            let waiting = Task { try await curl([url(cluster, follower.id, "/leader?index=\(now.index)&wait=30s")]) }
            try await Task.sleep(for: .milliseconds(300))
            let resigned = try await curl(["-X", "POST", url(cluster, try leaderID(leader), "/resign")])
            #expect(resigned.status == 200, "\(resigned.body)")
            let woken = try await waiting.value
            let body = try #require(jsonObject(woken.body))
            #expect(((body["index"] as? NSNumber)?.uint64Value ?? 0) > now.index)
            // An index already passed answers at once.
            let past = try await curl([url(cluster, follower.id, "/leader?index=0&wait=30s")], timeout: .seconds(5))
            #expect(past.status == 200)
        }
    }

    // MARK: GET /events

    @Test func eventsStreamTheStateThenEveryChangeToCurl() async throws {
        try await withApplicationCluster { cluster in
            let leader = try #require(await cluster.waitForLeader(timeout: .seconds(15)))
            let leaderNode = try leaderID(leader)
            let follower = try #require(cluster.nodes.first { $0.id != leaderNode }).id
            let onFollower = try SSEStream(port: cluster.node(follower).httpPort)
            let onLeader = try SSEStream(port: cluster.node(leaderNode).httpPort)
            defer { onFollower.stop(); onLeader.stop() }
            #expect(await onFollower.wait(timeout: .seconds(5)) { !$0.isEmpty })
            #expect(await onLeader.wait(timeout: .seconds(5)) { $0.contains { $0.event == "lease" } })
            #expect(onFollower.headers.contains("content-type: text/event-stream"))
            #expect(onFollower.headers.contains("cache-control: no-cache"))

            let first = try #require(onFollower.events.first)
            #expect(first.event == "state")
            #expect(first.id == String(first.number("index") ?? 0))
            for key in ["node", "term", "index", "leader", "is_leader", "mono_ns", "lease_until_mono_ns", "lease_unbounded"] {
                #expect(first.data[key] != nil, "state lacks \(key)")
            }
            let leaderState = try #require(onLeader.events.first)
            #expect(leaderState.bool("is_leader") == true && leaderState.number("lease_until_mono_ns") != nil)

            let resigned = try await curl(["-X", "POST", url(cluster, leaderNode, "/resign")])
            #expect(resigned.status == 200, "\(resigned.body)")
            // The follower sees the old leader lost, then a new one elected; the old leader its lease end.
            #expect(await onFollower.wait(timeout: .seconds(10)) { events in
                events.contains { $0.event == "lost" } && events.contains { $0.event == "elected" && $0.number("leader") != leaderNode.rawValue }
            })
            #expect(await onLeader.wait(timeout: .seconds(10)) { $0.contains { $0.event == "lease" && $0.bool("ends") == true } })
            let lost = try #require(onFollower.events.first { $0.event == "lost" })
            #expect(lost.number("previous") == leaderNode.rawValue && lost.isNull("leader") && lost.bool("is_leader") == false)
            let elected = try #require(onFollower.events.last { $0.event == "elected" })
            for key in ["leader", "term", "is_self", "leaderless_ms", "mono_ns"] { #expect(elected.data[key] != nil) }
            let ended = try #require(onLeader.events.first { $0.event == "lease" && $0.bool("ends") == true })
            #expect(ended.bool("is_leader") == false)
            for key in ["from_mono_ns", "until_mono_ns", "ends"] { #expect(ended.data[key] != nil) }
            // Ids never go down, and every lease event of one lease shares its id.
            let ids = onFollower.events.compactMap { $0.id.flatMap(UInt64.init) }
            #expect(ids == ids.sorted())
        }
    }

    @Test func aReconnectWithLastEventIDStartsFromTheState() async throws {
        try await withApplicationCluster { cluster in
            _ = try #require(await cluster.waitForLeader(timeout: .seconds(15)))
            let stream = try SSEStream(port: cluster.node(1).httpPort, lastEventID: "0")
            defer { stream.stop() }
            #expect(await stream.wait(timeout: .seconds(5)) { !$0.isEmpty })
            let first = try #require(stream.events.first)
            #expect(first.event == "state")
            // The state's index is past the client's 0, so the client knows it missed changes.
            let index = try #require(first.number("index"))
            #expect(index > 0 && first.id == String(index))
            // Up to date: the state comes first all the same, with the index the client has seen.
            let current = try SSEStream(port: cluster.node(1).httpPort, lastEventID: String(index))
            defer { current.stop() }
            #expect(await current.wait(timeout: .seconds(5)) { !$0.isEmpty })
            #expect(current.events.first?.event == "state")
            #expect((current.events.first?.number("index") ?? 0) >= index)
        }
    }

    // MARK: GET, HEAD /primary

    @Test func primaryIs200OnlyOnTheLeaseHolder() async throws {
        try await withApplicationCluster { cluster in
            let leader = try #require(await cluster.waitForLeader(timeout: .seconds(15)))
            let leaderNode = try leaderID(leader)
            for node in cluster.nodes {
                let get = try await curl([url(cluster, node.id, "/primary")])
                let head = try await curl(["-I", url(cluster, node.id, "/primary")])
                let expected = node.id == leaderNode ? 200 : 503
                #expect(get.status == expected && head.status == expected, "node \(node.id): \(get.status) \(head.status)")
            }
            _ = try await curl(["-X", "POST", url(cluster, leaderNode, "/resign")])
            let after = try await curl([url(cluster, leaderNode, "/primary")])
            #expect(after.status == 503, "a resigned leader is no longer primary")
            #expect(after.body.contains("not primary"))
        }
    }

    // MARK: POST /resign

    @Test func resignHandsOverThenHoldsOffForTheWholeHoldOff() async throws {
        try await withApplicationCluster { cluster in
            let leader = try #require(await cluster.waitForLeader(timeout: .seconds(15)))
            let old = try leaderID(leader)
            try await Task.sleep(for: .milliseconds(200))
            let answer = try await curl(["-X", "POST", url(cluster, old, "/resign?hold_off=2s")])
            #expect(answer.status == 200, "\(answer.body)")
            let body = try #require(jsonObject(answer.body))
            #expect(body["outcome"] as? String == "handed_over")
            #expect((body["hold_off_ms"] as? NSNumber)?.doubleValue == 2000)
            let successor = try #require((body["to"] as? NSNumber)?.uint64Value).flatMap(NodeID.init)!
            // Holding off: a transfer back is refused, and the old leader never leads in the window.
            let back = try await curl(["-X", "POST", url(cluster, successor, "/transfer?to=\(old)")])
            #expect(back.status == 409 && back.body.contains("not eligible"), "\(back.body)")
            let status = try await curl([url(cluster, old, "/status")])
            #expect(jsonObject(status.body)?["eligible"] as? Bool == false)
            let holdOffEnds = ContinuousClock.now + .milliseconds(1_700)
            while ContinuousClock.now < holdOffEnds {
                #expect(await cluster.leaderView(of: old)?.isLeader == false)
                try await Task.sleep(for: .milliseconds(50))
            }
            try await Task.sleep(for: .milliseconds(600))
            let again = try await curl(["-X", "POST", url(cluster, successor, "/transfer?to=\(old)")])
            #expect(again.status == 200, "after the hold-off the old leader may lead again: \(again.body)")
            // Only a leader resigns, and a bad hold-off is refused.
            let follower = try #require(cluster.nodes.first { $0.id != old }).id
            #expect(try await curl(["-X", "POST", url(cluster, follower, "/resign")]).status == 409)
            #expect(try await curl(["-X", "POST", url(cluster, old, "/resign?hold_off=soon")]).status == 400)
            #expect(try await curl([url(cluster, old, "/resign")]).status == 405)
        }
    }

    // MARK: PUT /candidacy

    @Test func candidacyIsRefusedWhenMalformedAndSurvivesARestart() async throws {
        try await withApplicationCluster { cluster in
            let leader = try #require(await cluster.waitForLeader(timeout: .seconds(15)))
            let leaderNode = try leaderID(leader)
            let follower = try #require(cluster.nodes.first { $0.id != leaderNode }).id
            for bad in ["", "{}", "[1]", "{\"eligible\": \"no\"}", "{\"eligible\": 0}", "{\"eligible\": false, \"x\": 1}", "nope"] {
                let answer = try await curl(["-X", "PUT", "-d", bad, url(cluster, follower, "/candidacy")])
                #expect(answer.status == 400, "\(bad): \(answer.body)")
                #expect((jsonObject(answer.body)?["error"] as? String)?.contains("eligible") == true)
            }
            let answer = try await curl(["-X", "PUT", "-H", "Content-Type: application/json", "-d", "{\"eligible\": false}",
                                         url(cluster, follower, "/candidacy")])
            #expect(answer.status == 200, "\(answer.body)")
            #expect(jsonObject(answer.body)?["eligible"] as? Bool == false)
            // It survives a crash: the file is in the data directory.
            cluster.node(follower).signal(SIGKILL)
            await cluster.node(follower).waitForExit(timeout: .seconds(5))
            #expect(FileManager.default.fileExists(atPath: cluster.node(follower).dataDirectory + "/candidacy"))
            try cluster.node(follower).start()
            var eligible: Bool?
            let deadline = ContinuousClock.now + .seconds(10)
            while eligible == nil && ContinuousClock.now < deadline {
                eligible = jsonObject((try? await curl([url(cluster, follower, "/status")]))?.body ?? "")?["eligible"] as? Bool
                if eligible == nil { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(eligible == false)
            let current = try #require(await cluster.waitForLeader(timeout: .seconds(15)))
            try await Task.sleep(for: .milliseconds(300))  // The leader hears its candidacy.
            let refused = try await curl(["-X", "POST", url(cluster, try leaderID(current), "/transfer?to=\(follower)")])
            #expect(refused.status == 409, "an ineligible node accepts no transfer: \(refused.body)")
            // The leader made ineligible hands over at once, to an eligible member.
            let drained = try await curl(["-X", "PUT", "-d", "{\"eligible\":false}", url(cluster, try leaderID(current), "/candidacy")])
            #expect(drained.status == 200, "\(drained.body)")
            let handover = try #require(jsonObject(drained.body)?["handover"] as? [String: Any], "\(drained.body)")
            #expect(handover["outcome"] as? String == "completed")
            #expect((handover["to"] as? NSNumber)?.uint64Value != follower.rawValue)
            let next = try #require(await cluster.waitForLeader(excluding: try leaderID(current), timeout: .seconds(10)))
            #expect(next.self_ != follower.rawValue)
        }
    }

    @Test func aCorruptCandidacyFileStopsStartUpNamingTheFile() async throws {
        try await withApplicationCluster(nodes: 1) { cluster in
            _ = try #require(await cluster.waitForLeader(timeout: .seconds(15)))
            _ = try await curl(["-X", "PUT", "-d", "{\"eligible\":false}", url(cluster, 1, "/candidacy")])
            await cluster.node(1).stop()
            let path = cluster.node(1).dataDirectory + "/candidacy"
            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            bytes[bytes.count - 5] ^= 0x01  // Flip the eligible byte: the checksum no longer matches.
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            try cluster.node(1).start()
            let status = await cluster.node(1).waitForExit(timeout: .seconds(10))
            #expect(status != nil && status != .exited(0), "the node refused to start")
            #expect(cluster.node(1).log.contains(path) && cluster.node(1).log.contains("corrupt"), "\(cluster.node(1).log.suffix(500))")
        }
    }

    // MARK: Preferred leaders

    @Test func aHigherPriorityNodeTakesOverAfterTheWindowAndLeadershipThenStays() async throws {
        let perNode: [NodeID: [String]] = [1: ["--priority", "0"], 2: ["--priority", "0"], 3: ["--priority", "5"]]
        try await withApplicationCluster(extra: ["--preempt-after", "1s"], perNode: perNode, start: false) { cluster in
            try cluster.node(1).start()
            try cluster.node(2).start()
            let first = try #require(await cluster.waitForLeader(timeout: .seconds(15)))
            #expect(first.self_ != 3)
            try cluster.node(3).start()
            let joined = ContinuousClock.now
            var preferred: LeaderView?
            let deadline = joined + .seconds(20)
            while preferred == nil && ContinuousClock.now < deadline {
                if let view = await cluster.currentLeader(), view.self_ == 3 { preferred = view }
                try await Task.sleep(for: .milliseconds(50))
            }
            let took = ContinuousClock.now - joined
            #expect(preferred != nil, "node 3 (priority 5) never took over")
            #expect(took >= .seconds(1), "not before the preemption window: \(took)")
            // No flapping: node 3 keeps leading.
            let term = try #require(preferred?.term)
            try await Task.sleep(for: .seconds(3))
            let later = try #require(await cluster.currentLeader())
            #expect(later.self_ == 3 && later.term == term)
            let metrics = try await curl([url(cluster, NodeID(first.self_)!, "/metrics")])
            #expect(metrics.body.contains("ballot_leadership_transfers_started_total{reason=\"preemption\"} 1"))
        }
    }

    // MARK: The embedded example

    @Test func theEmbeddedExampleWritesOnlyWhileLeadingAndStopsBeforeTheDeadline() async throws {
        let ledger = temporaryDirectory("ledger") + "/ledger"
        try await withApplicationCluster(
            electionTimeout: "500ms", heartbeat: "50ms",
            extra: ["--ledger", ledger, "--resign-after", "40", "--work-interval", "20"],
            nodeBinary: try embeddedExampleBinary()
        ) { cluster in
            // Leaders take turns: each resigns after forty entries (about 0.8 s, longer than a lease).
            let turns = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < turns && cluster.otherLines.filter({ $0.line.hasPrefix("resigned") }).count < 3 {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(cluster.otherLines.filter { $0.line.hasPrefix("resigned") }.count >= 3)
            // Right after a new leadership begins, freeze both followers: the leader's lease can no
            // longer be extended, and it runs out before the forty entries are done.
            let seen = cluster.otherLines.count
            let begun = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < begun && !cluster.otherLines.dropFirst(seen).contains(where: { $0.line.hasPrefix("leading") }) {
                try await Task.sleep(for: .milliseconds(5))
            }
            let newLeadership = cluster.otherLines.dropFirst(seen).first(where: { $0.line.hasPrefix("leading") })
            let leaderNode = try #require(newLeadership?.node)
            let followers = cluster.nodes.filter { $0.id != leaderNode }
            let marker = cluster.otherLines.count
            for follower in followers { follower.signal(SIGSTOP) }
            defer { for follower in followers { follower.signal(SIGCONT) } }
            let stopped = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < stopped
                && !cluster.otherLines.dropFirst(marker).contains(where: { $0.node == leaderNode && $0.line.hasPrefix("stopped") }) {
                try await Task.sleep(for: .milliseconds(20))
            }
            for follower in followers { follower.signal(SIGCONT) }
            let lines = cluster.otherLines.dropFirst(marker).filter { $0.node == leaderNode }.map(\.line)
            let stop = try #require(lines.first { $0.hasPrefix("stopped") }, "\(lines.suffix(5))")
            #expect(stop.contains("reason=deadline_approaching"), "\(stop)")
            let lastDeadline = try #require(lines.last { $0.hasPrefix("wrote") }.flatMap { field("deadline_ns", $0) })
            let stoppedAt = try #require(field("mono_ns", stop))
            #expect(stoppedAt < lastDeadline, "work stopped before the lease deadline: \(stoppedAt) vs \(lastDeadline)")
            // Every entry was written inside its lease, and the ledger's tokens never go down.
            for line in cluster.otherLines.map(\.line) where line.hasPrefix("wrote") {
                if let at = field("mono_ns", line), let deadline = field("deadline_ns", line) { #expect(at < deadline, "\(line)") }
            }
            let entries = try String(contentsOfFile: ledger, encoding: .utf8).split(separator: "\n")
            let tokens = entries.compactMap { UInt64($0.split(separator: " ").first ?? "") }
            #expect(tokens.count == entries.count && tokens == tokens.sorted() && !tokens.isEmpty)
        }
    }

    func field(_ name: String, _ line: String) -> UInt64? {
        line.split(separator: " ").first { $0.hasPrefix(name + "=") }.flatMap { UInt64($0.dropFirst(name.count + 1)) }
    }
}
