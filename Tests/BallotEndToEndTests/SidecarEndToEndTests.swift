import BallotChildRun
import BallotClient
import BallotHarness
import BallotRuntime
import Foundation
import Glibc
import Testing

/// `ballot run` and `ballot watch` against real clusters: the writer runs only on the leader, hands
/// over without two writers at once, dies with its lease, leaves no orphans, and the sidecar exits
/// with the statuses it documents.
@Suite(.serialized)
struct SidecarEndToEndTests {
    /// A loopback cluster (`ballot serve --events`, T = 300 ms) with a sidecar per node.
    func withSidecars<T>(nodes: Int = 3, settings: FaultCluster.Settings = FaultCluster.Settings(),
                         runArguments: [String] = [], command: [String]? = nil,
                         _ body: (FaultCluster, SidecarSet) async throws -> T) async throws -> T {
        let binary = try ballotBinary()
        let directory = temporaryDirectory("sidecar")
        let peerBase = LoopbackPorts.consecutiveFree(nodes, from: Int.random(in: 20_000...50_000))
        var settings = settings
        settings.nodes = nodes
        let cluster = FaultCluster(
            settings: settings,
            placement: .loopback(peerBasePort: peerBase, httpBasePort: LoopbackPorts.consecutiveFree(nodes, from: peerBase + nodes)),
            binary: binary, dataDirectory: directory)
        let sidecars = try SidecarSet(cluster: cluster, binary: binary, directory: directory, runArguments: runArguments,
                                  command: command)
        try cluster.startAll()
        do {
            guard await cluster.waitForStableLeader(timeout: .seconds(20)) != nil else { throw HarnessError("no leader") }
            try sidecars.startAll()
            let result = try await body(cluster, sidecars)
            await sidecars.stopAll()
            await cluster.stopAll()
            try? FileManager.default.removeItem(atPath: directory)
            return result
        } catch {
            print(sidecars.logs(limit: 3000))
            print(cluster.logs(limit: 2000))
            await sidecars.stopAll()
            await cluster.stopAll()
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    func leases(_ cluster: FaultCluster) -> [LeaseEventLine] {
        cluster.timeline.events.compactMap { if case .lease(let line) = $0 { line } else { nil } }
    }

    /// The child properties hold and at least `count` writers ran.
    func expectCleanHistory(_ sidecars: SidecarSet, _ cluster: FaultCluster, writers count: Int) throws {
        let runs = try ChildRun.load(from: sidecars.records)
        #expect(runs.count >= count, "writers: \(runs)")
        let violations = ChildHistoryChecker().check(runs, leases: leases(cluster))
        #expect(violations.isEmpty, "\(violations)")
        // The nodes' own lease lines: no lease began before an earlier one's published deadline.
        let nodes = HistoryChecker().check(cluster.timeline.events, endedAt: SystemMonotonicClock.now.nanoseconds)
        #expect(nodes.isEmpty, "\(nodes)")
    }

    @Test func theWriterRunsOnlyOnTheLeaderAndMovesWithATransfer() async throws {
        try await withSidecars { cluster, sidecars in
            guard let first = await sidecars.waitForWriter(timeout: .seconds(20)) else { throw HarnessError("no writer") }
            #expect(first.term >= 1)
            let target = cluster.ids.first { $0 != first.node }!
            let answer = try await HTTPClient.request(.POST, host: "127.0.0.1", port: cluster.node(first.node).httpPort,
                                                      path: "/transfer?to=\(target)", timeout: .seconds(10))
            #expect(answer.status == 200, "\(answer.text)")
            guard let second = await sidecars.waitForWriter(timeout: .seconds(10), startedAfter: first.first) else {
                throw HarnessError("no writer after the transfer")
            }
            #expect(second.node == target && second.term > first.term)
            try expectCleanHistory(sidecars, cluster, writers: 2)
        }
    }

    @Test func killingTheLeadingNodeStopsItsWriterAtOnce() async throws {
        try await withSidecars { cluster, sidecars in
            guard let first = await sidecars.waitForWriter(timeout: .seconds(20)) else { throw HarnessError("no writer") }
            let killedAt = SystemMonotonicClock.now.nanoseconds
            await cluster.kill(first.node)
            guard let second = await sidecars.waitForWriter(timeout: .seconds(10), startedAfter: first.first) else {
                throw HarnessError("no writer after the crash")
            }
            #expect(second.node != first.node)
            let old = try ChildRun.load(from: sidecars.records).first { $0.pid == first.pid && $0.first == first.first }!
            // Killed on the evidence of the closed stream and the refused reconnect, not at its deadline.
            print("writer stopped \(Double(Int64(old.last) - Int64(killedAt)) / 1e6) ms after the node's SIGKILL; "
                  + "the next started \(Double(second.first - old.last) / 1e6) ms later")
            try expectCleanHistory(sidecars, cluster, writers: 2)
        }
    }

    @Test func aSidecarKilledWithSIGKILLLeavesNoWriterBehind() async throws {
        try await withSidecars { cluster, sidecars in
            guard let first = await sidecars.waitForWriter(timeout: .seconds(20)) else { throw HarnessError("no writer") }
            await sidecars.kill(first.node)
            var gone = false
            for _ in 0..<500 where !gone {
                gone = kill(first.pid, 0) == -1 && errno == ESRCH
                if !gone { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(gone, "the writer outlived its sidecar")
            try sidecars.start(first.node)
            guard let second = await sidecars.waitForWriter(timeout: .seconds(10), startedAfter: first.first) else {
                throw HarnessError("no writer after the restart")
            }
            #expect(second.pid != first.pid)
            try expectCleanHistory(sidecars, cluster, writers: 2)
        }
    }

    @Test func aWriterThatExitsOnItsOwnMakesTheNodeResign() async throws {
        try await withSidecars { cluster, sidecars in
            guard let first = await sidecars.waitForWriter(timeout: .seconds(20)) else { throw HarnessError("no writer") }
            kill(first.pid, SIGKILL)
            guard let second = await sidecars.waitForWriter(timeout: .seconds(10), startedAfter: first.first) else {
                throw HarnessError("no writer after the resignation")
            }
            #expect(second.node != first.node, "the node resigned and another took over\n\(sidecars.logs(limit: 1500))")
            try expectCleanHistory(sidecars, cluster, writers: 2)
        }
    }

    /// Behind HTTPS with a bearer token (`--http-token-file`): the sidecar follows `/events` over TLS,
    /// and its `POST /resign`, a mutating route, carries the token, so a writer that exits hands over.
    /// A sidecar without the token is refused (401) and says so; the token never reaches a log.
    @Test func overHTTPSWithABearerTokenTheWriterRunsAndAResignationHandsOver() async throws {
        let certificates = try await ThrowawayCertificates.make()
        defer { certificates.remove() }
        let tokenFile = certificates.directory + "/token"
        let token = "sidecar-token-0123456789abcdef"
        try (token + "\n").write(toFile: tokenFile, atomically: true, encoding: .utf8)
        chmod(tokenFile, 0o600)
        var settings = FaultCluster.Settings()
        settings.httpTLS = try HTTPClientTLS(caFile: certificates.ca)
        settings.extraArguments = ["--http-tls-cert", certificates.serverCertificate, "--http-tls-key", certificates.serverKey,
                                   "--http-token-file", tokenFile]
        try await withSidecars(settings: settings, runArguments: ["--cacert", certificates.ca, "--token-file", tokenFile]) {
            cluster, sidecars in
            guard let first = await sidecars.waitForWriter(timeout: .seconds(20)) else { throw HarnessError("no writer") }
            kill(first.pid, SIGKILL)
            guard let second = await sidecars.waitForWriter(timeout: .seconds(10), startedAfter: first.first) else {
                throw HarnessError("no writer after the resignation")
            }
            #expect(second.node != first.node, "the node resigned and another took over\n\(sidecars.logs(limit: 1500))")
            #expect(sidecars.process(first.node).log.contains("the node resigned: HTTP 200"), "\(sidecars.logs(limit: 1500))")
            for process in sidecars.processes { #expect(!process.log.contains(token), "the token must never be logged") }
            try expectCleanHistory(sidecars, cluster, writers: 2)
        }
        // Without the token the command still runs (reading is open), but its resignation is refused.
        try await withSidecars(settings: settings, runArguments: ["--cacert", certificates.ca],
                               command: ["/bin/sh", "-c", "sleep 0.3"]) { cluster, sidecars in
            guard let leader = await cluster.waitForStableLeader(timeout: .seconds(10)) else { throw HarnessError("no leader") }
            let refused = "the node refused to resign: HTTP 401"
            let deadline = ContinuousClock.now + .seconds(10)
            while !sidecars.process(leader.self_).log.contains(refused), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(sidecars.process(leader.self_).log.contains(refused), "\(sidecars.logs(limit: 1500))")
        }
    }

    @Test func aForwardedSIGTERMReachesTheCommandAndTheSidecarExitsZero() async throws {
        let directory = temporaryDirectory("sidecar-term")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let script = "trap 'echo $BALLOT_TERM >> \(directory)/term; exit 0' TERM; echo $$ >> \(directory)/pid; while :; do sleep 0.02; done"
        try await withSidecars(command: ["/bin/sh", "-c", script]) { cluster, sidecars in
            guard let leader = await cluster.waitForStableLeader(timeout: .seconds(10)) else { throw HarnessError("no leader") }
            let pid = try waitForLines("\(directory)/pid", count: 1)[0]
            sidecars.process(leader.self_).signal(SIGTERM)
            #expect(await sidecars.process(leader.self_).waitForExit(timeout: .seconds(5)) == .exited(0))
            #expect(try waitForLines("\(directory)/term", count: 1, raw: true) == ["\(leader.term)"])
            #expect(kill(pid, 0) == -1 && errno == ESRCH)
        }
    }

    @Test func onExitExitReturnsTheCommandsStatusAndAMissingCommandIs127() async throws {
        try await withSidecars(nodes: 3, runArguments: ["--on-exit", "exit"], command: ["/bin/sh", "-c", "sleep 0.2; exit 7"]) {
            cluster, sidecars in
            guard let leader = await cluster.waitForStableLeader(timeout: .seconds(10)) else { throw HarnessError("no leader") }
            #expect(await sidecars.process(leader.self_).waitForExit(timeout: .seconds(10)) == .exited(7))
        }
        try await withSidecars(nodes: 3, command: ["/nonexistent/worker"]) { cluster, sidecars in
            guard let leader = await cluster.waitForStableLeader(timeout: .seconds(10)) else { throw HarnessError("no leader") }
            #expect(await sidecars.process(leader.self_).waitForExit(timeout: .seconds(10)) == .exited(127))
        }
    }

    @Test func theSidecarsMetricsAreValidExposition() async throws {
        let port = LoopbackPorts.consecutiveFree(1, from: Int.random(in: 20_000...50_000))
        try await withSidecars(nodes: 1, runArguments: ["--metrics", "127.0.0.1:\(port)"]) { _, sidecars in
            guard await sidecars.waitForWriter(timeout: .seconds(20)) != nil else { throw HarnessError("no writer") }
            var text = ""
            for _ in 0..<100 where !text.contains("ballot_sidecar_child_running 1") {
                text = (try? await HTTPClient.request(.GET, host: "127.0.0.1", port: port, path: "/metrics").text) ?? ""
                if !text.contains("ballot_sidecar_child_running 1") { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(text.contains("ballot_sidecar_child_running 1"))
            #expect(text.contains("ballot_sidecar_child_starts_total 1"))
            #expect(text.contains("ballot_sidecar_stream_connected 1"))
            if let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first(where: FileManager.default.isExecutableFile) {
                let process = try ChildProcess(promtool, arguments: ["check", "metrics"], input: .pipe, output: .null, error: .null)
                try process.standardInput?.write(text.utf8)
                process.standardInput?.close()
                #expect(await process.waitForExit(timeout: .seconds(60)) == .exited(0), "promtool check metrics refused the exposition")
            }
        }
    }

    @Test func watchPrintsOneLinePerChangeAndRunsExecWithTheView() async throws {
        let directory = temporaryDirectory("watch")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withSidecars(command: ["/bin/sh", "-c", "exec sleep 1000"]) { cluster, _ in
            guard let leader = await cluster.waitForStableLeader(timeout: .seconds(10)) else { throw HarnessError("no leader") }
            let follower = cluster.ids.first { $0 != leader.self_ }!
            let port = cluster.node(follower).httpPort
            // --count: the current state, then it exits by itself.
            let once = try await runBallotCapturing(["watch", "--http", "127.0.0.1:\(port)", "--count", "1"])
            #expect(once.status == 0)
            #expect(once.output.split(separator: "\n").count == 1)

            let watch = try ChildProcess(
                try ballotBinary(),
                arguments: ["watch", "--http", "127.0.0.1:\(port)",
                            "--exec", "echo \"$BALLOT_ROLE $BALLOT_TERM $BALLOT_LEADER\" >> \(directory)/exec"],
                output: .pipe)
            _ = try waitForLines("\(directory)/exec", count: 1, raw: true)
            let answer = try await HTTPClient.request(.POST, host: "127.0.0.1", port: cluster.node(leader.self_).httpPort,
                                                      path: "/transfer?to=\(follower)", timeout: .seconds(10))
            #expect(answer.status == 200)
            var execLines: [String] = []
            for _ in 0..<500 where execLines.last?.hasPrefix("leader ") != true {
                try await Task.sleep(for: .milliseconds(10))
                execLines = ((try? String(contentsOfFile: "\(directory)/exec", encoding: .utf8)) ?? "")
                    .split(separator: "\n").map(String.init)
            }
            watch.terminate()
            let lines = (watch.standardOutput?.readText() ?? "").split(separator: "\n").map(String.init)
            let objects = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(objects.count == lines.count && lines.count >= 2, "\(lines)")
            #expect(objects.first?["role"] as? String == "follower")
            #expect(objects.last?["role"] as? String == "leader")
            let indexes = objects.compactMap { $0["index"] as? Int }
            #expect(Set(indexes).count == indexes.count, "one line per change: \(lines)")
            #expect(execLines.count == lines.count, "one --exec per line")
            #expect(execLines.first == "follower \(leader.term) \(leader.self_)")
            #expect(execLines.last?.hasPrefix("leader ") == true)
        }
    }
}

/// Runs `ballot` and returns its exit status and standard output (bounded in time).
func runBallotCapturing(_ arguments: [String], timeout: Duration = .seconds(20)) async throws -> (status: Int32, output: String) {
    let process = try ChildProcess(try ballotBinary(), arguments: arguments, output: .pipe, error: .null)
    let exit = await process.waitForExit(timeout: timeout) ?? process.terminate()
    return (exit?.shellStatus ?? -1, process.standardOutput?.readText() ?? "")
}
