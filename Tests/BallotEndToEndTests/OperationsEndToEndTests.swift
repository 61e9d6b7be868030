import BallotClient
import BallotCore
import BallotHarness
import BallotTestKit
import Foundation
import Glibc
import Testing

/// What an operator meets on real `ballotd` processes: structured logs, the configuration layers
/// and `--print-config`, exit statuses, the build's version, identity from a pod's hostname, and a
/// node whose disk fails.
@Suite(.serialized) struct OperationsEndToEndTests {
    // MARK: Logs

    /// Every line a real three-node run writes is one JSON object with the stable keys, and the
    /// leadership records carry their event and term.
    @Test func jsonLogsOfARealRunAreOneRecordPerLine() async throws {
        let logs = try await runClusterAndCollectLogs(format: "json")
        for (node, text) in logs {
            var events: [String] = []
            for line in text.split(separator: "\n") {
                let object = try #require(
                    try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    "node \(node): not one JSON object: \(line)")
                for key in ["ts", "level", "msg", "node"] {
                    #expect(object[key] is String, "node \(node): no \(key) in \(line)")
                }
                #expect(object["node"] as? String == "\(node)")
                #expect((object["ts"] as? String)?.hasSuffix("Z") == true)
                if let event = object["event"] as? String {
                    events.append(event)
                    if event == "leader_elected" { #expect(object["term"] is String && object["leader"] is String) }
                }
            }
            #expect(events.contains("started") && events.contains("leader_elected") && events.contains("shutting_down"),
                    "node \(node) events: \(events)")
        }
    }

    @Test func logfmtLogsOfARealRunParse() async throws {
        let logs = try await runClusterAndCollectLogs(format: "logfmt")
        for (node, text) in logs {
            var events: [String] = []
            for line in text.split(separator: "\n") {
                let fields = try LogfmtParser.parse(String(line))
                #expect(Array(line.prefix(3)) == Array("ts="), "ts first: \(line)")
                for key in ["ts", "level", "msg", "node"] { #expect(fields[key] != nil, "no \(key) in \(line)") }
                #expect(fields["node"] == "\(node)")
                if let event = fields["event"] { events.append(event) }
            }
            #expect(events.contains("started") && events.contains("leader_elected"), "node \(node) events: \(events)")
        }
    }

    /// Starts three ballotd nodes logging in `format`, waits for a leader, stops them with SIGTERM,
    /// and returns what each wrote to standard error.
    func runClusterAndCollectLogs(format: String) async throws -> [(NodeID, String)] {
        try await withCluster(extra: ["--log-format", format, "--log-level", "info"], nodeBinary: try ballotdBinary()) {
            cluster in
            _ = try #require(await cluster.waitForLeader(timeout: .seconds(15)), "no leader elected")
            await cluster.stopAll()
            return cluster.nodes.map { ($0.id, $0.log) }
        }
    }

    // MARK: Version

    @Test func versionAndBuildInfoCarryTheGitRevision() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let (gitStatus, revision, _) = try await run("/usr/bin/git", ["-C", root, "rev-parse", "HEAD"])
        try #require(gitStatus == 0, "this checkout is not a git repository")
        let sha = revision.trimmingCharacters(in: .whitespacesAndNewlines)
        let (status, version, _) = try await run(try ballotdBinary(), ["--version"])
        #expect(status == 0)
        #expect(version.contains("(revision \(sha))"), "\(version)")
        #expect(!version.hasPrefix("unknown"))
        try await withCluster(nodes: 1, nodeBinary: try ballotdBinary()) { cluster in
            _ = try #require(await cluster.waitForLeader(timeout: .seconds(15)), "the node should elect itself")
            let metrics = try await HTTPClient.request(.GET, host: "127.0.0.1", port: cluster.nodes[0].httpPort, path: "/metrics").text
            let line = metrics.split(separator: "\n").first { $0.hasPrefix("ballot_build_info{") }
            #expect(line?.contains("revision=\"\(sha)\"") == true, "\(String(describing: line))")
            #expect(line?.contains("version=\"\(version.split(separator: " ")[0])\"") == true, "\(String(describing: line))")
        }
    }

    // MARK: Configuration layers

    @Test func printConfigShowsEveryValueWithItsOrigin() async throws {
        let directory = temporaryDirectory("print-config")
        let file = directory + "/ballotd.yaml"
        try "listen: 127.0.0.1:7001\ndata_dir: \(directory)/data\nelection_timeout: 3s\npeers:\n  2: 127.0.0.1:7002\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let (status, output, stderr) = try await run(
            try ballotdBinary(), ["--id", "1", "--print-config"],
            environment: ["BALLOT_CONFIG": file, "BALLOT_ELECTION_TIMEOUT": "2s", "BALLOT_HEARTBEAT_INTERVAL": "200ms",
                          "BALLOT_ELECTON_TIMEOUT": "1s"])
        #expect(status == 0, "\(stderr)")
        let lines = output.split(separator: "\n").map(String.init)
        func line(_ key: String) -> String { lines.first { $0.hasPrefix(key + ":") } ?? "" }
        #expect(line("id").hasSuffix("# --id"), "\(output)")
        #expect(line("election_timeout").hasPrefix("election_timeout: 2s") && line("election_timeout").hasSuffix("# BALLOT_ELECTION_TIMEOUT"))
        #expect(line("listen").hasSuffix("# \(file)"))
        #expect(line("cluster").hasSuffix("# default"))
        #expect(output.contains("# warning: environment variable BALLOT_ELECTON_TIMEOUT is not a Ballot setting"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/data"), "--print-config creates nothing")
    }

    @Test func configurationErrorsExit78AndNameWhereTheValueCameFrom() async throws {
        let data = temporaryDirectory("config-errors")
        let base = ["--id", "1", "--listen", "127.0.0.1:\(LoopbackPorts.consecutiveFree(1, from: 43_000))", "--data-dir", data]
        let (status, _, stderr) = try await run(try ballotdBinary(), base, environment: ["BALLOT_ELECTION_TIMEOUT": "1x"])
        #expect(status == 78)
        #expect(stderr.contains("error: ballotd: BALLOT_ELECTION_TIMEOUT: \"1x\": unknown unit 'x'; use ms, s or m"), "\(stderr)")

        let yaml = data + "/bully.yaml"
        try "algorithm: bully\n".write(toFile: yaml, atomically: true, encoding: .utf8)
        let (bullyStatus, _, bullyError) = try await run(try ballotdBinary(), base + ["--config", yaml])
        #expect(bullyStatus == 78)
        #expect(bullyError.contains("algorithm in \(yaml): ballotd runs Raft only"), "\(bullyError)")
        #expect(bullyError.contains("ballot serve --algorithm bully"), "\(bullyError)")

        // In json, the error is a record a collector can read.
        let (jsonStatus, _, jsonError) = try await run(
            try ballotdBinary(), base + ["--log-format", "json"], environment: ["BALLOT_PEERS": "2"])
        #expect(jsonStatus == 78)
        let record = try #require(
            try? JSONSerialization.jsonObject(with: Data(jsonError.utf8)) as? [String: String], "\(jsonError)")
        #expect(record["level"] == "critical" && record["event"] == "configuration_error")
        #expect(record["msg"]?.contains("BALLOT_PEERS: \"2\": expected ID=HOST:PORT") == true, "\(jsonError)")

        let (usageStatus, _, _) = try await run(try ballotdBinary(), base + ["--algorithm", "raft"])
        #expect(usageStatus == 64, "ballotd has no --algorithm flag")
    }

    @Test func theEnvironmentAloneConfiguresANode() async throws {
        let peer = LoopbackPorts.consecutiveFree(1, from: 44_000)
        let http = LoopbackPorts.consecutiveFree(1, from: peer + 1)
        let process = try start(try ballotdBinary(), [], environment: [
            "BALLOT_ID": "1", "BALLOT_LISTEN": "127.0.0.1:\(peer)", "BALLOT_HTTP": "127.0.0.1:\(http)",
            "BALLOT_DATA_DIR": temporaryDirectory("env-only"), "BALLOT_ELECTION_TIMEOUT": "300ms",
            "BALLOT_HEARTBEAT_INTERVAL": "50ms",
        ])
        defer { stop(process) }
        let view = try #require(await waitForLeader(httpPorts: [http], timeout: .seconds(15)))
        #expect(view.self_ == 1 && view.isLeader)
    }

    // MARK: Privileges

    /// Nodes without privileges — as the systemd unit (DynamicUser, no capabilities) and the
    /// container image (user 65532) run them — form a cluster. (The transport once asked for
    /// TCP_NODELAY at the socket level, which is SO_DEBUG there and needs CAP_NET_ADMIN: every
    /// connection of an unprivileged node failed with EACCES, and no test ran as anyone but root.)
    @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")))
    func nodesWithoutPrivilegesFormACluster() async throws {
        let peer = LoopbackPorts.consecutiveFree(3, from: Int.random(in: 20_000...50_000))
        let http = LoopbackPorts.consecutiveFree(3, from: peer + 3)
        let data = temporaryDirectory("unprivileged")
        chmod(data, 0o777)
        var processes: [ChildProcess] = []
        defer { processes.forEach(stop) }
        for index in 0..<3 {
            var arguments = [
                "--reuid", "65534", "--regid", "65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
                try ballotdBinary(), "--id", "\(index + 1)", "--listen", "127.0.0.1:\(peer + index)",
                "--http", "127.0.0.1:\(http + index)", "--data-dir", "\(data)/node\(index + 1)",
                "--election-timeout", "300ms", "--heartbeat-interval", "50ms",
            ]
            for other in 0..<3 where other != index { arguments += ["--peer", "\(other + 1)=127.0.0.1:\(peer + other)"] }
            processes.append(try start("/usr/bin/setpriv", arguments))
        }
        let leader = await waitForLeader(httpPorts: (0..<3).map { http + $0 }, timeout: .seconds(20))
        #expect(leader != nil, "unprivileged nodes must connect to each other and elect a leader")
    }

    // MARK: Kubernetes identity

    /// Three ballotd processes, each in its own UTS namespace with a StatefulSet pod's hostname,
    /// given identical settings: each takes its ID from its hostname and its peers from the
    /// template, and they elect one leader.
    @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare")))
    func podsTakeTheirIdentityFromTheirHostnames() async throws {
        // Peer ports base+0…2 with base a multiple of 10, so the template can be 127.0.0.1:<base/10>{ordinal}.
        var base = 0
        for candidate in stride(from: 45_000, to: 55_000, by: 10) where (0..<3).allSatisfy({ LoopbackPorts.isFree(candidate + $0) }) {
            base = candidate
            break
        }
        try #require(base > 0, "no free peer ports")
        let http = LoopbackPorts.consecutiveFree(3, from: base + 100)
        let data = temporaryDirectory("pods")
        var processes: [ChildProcess] = []
        defer { processes.forEach(stop) }
        for ordinal in 0..<3 {
            let arguments = [
                "--uts", "/bin/sh", "-c", "hostname ballot-\(ordinal) && exec \"$0\" \"$@\"", try ballotdBinary(),
                "--id-from-hostname", "--members", "3", "--peer-address-template", "127.0.0.1:\(base / 10){ordinal}",
                "--listen", "127.0.0.1:\(base + ordinal)", "--http", "127.0.0.1:\(http + ordinal)",
                "--data-dir", "\(data)/ballot-\(ordinal)", "--election-timeout", "300ms", "--heartbeat-interval", "50ms",
            ]
            processes.append(try start("/usr/bin/unshare", arguments))
        }
        let leader = try #require(await waitForLeader(httpPorts: (0..<3).map { http + $0 }, timeout: .seconds(20)))
        for ordinal in 0..<3 {
            let response = try await HTTPClient.request(.GET, host: "127.0.0.1", port: http + ordinal, path: "/leader")
            let view = try JSONDecoder().decode(LeaderView.self, from: Data(response.body))
            #expect(view.self_ == UInt64(ordinal + 1), "pod ballot-\(ordinal) is node \(ordinal + 1)")
            #expect(view.leader == leader.self_ && view.term == leader.term)
        }
    }

    // MARK: A failing disk

    /// Node 3 keeps its state on a small tmpfs that fills up under it. The next term change makes
    /// it save, the save fails, and the node halts: it stops voting, `/healthz` turns 503, the
    /// metrics say why, and the other two carry on.
    @Test(.enabled(if: getuid() == 0))
    func aNodeWhoseDiskFailsHaltsAndSaysWhy() async throws {
        var settings = LocalCluster.Settings()
        settings.nodes = 3
        settings.peerBasePort = LoopbackPorts.consecutiveFree(3, from: Int.random(in: 20_000...50_000))
        settings.httpBasePort = LoopbackPorts.consecutiveFree(3, from: settings.peerBasePort + 3)
        settings.electionTimeout = "300ms"
        settings.heartbeatInterval = "50ms"
        settings.cluster = "disk"
        settings.nodeBinary = try ballotdBinary()
        let directory = temporaryDirectory("disk")
        let mountPoint = directory + "/node3"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let (mountStatus, _, mountError) = try await run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mountPoint])
        try #require(mountStatus == 0, "mount: \(mountError)")
        let cluster = LocalCluster(settings: settings, binary: try ballotBinary(), dataDirectory: directory)
        do {
            try cluster.startAll()
            let first = try #require(await cluster.waitForLeader(timeout: .seconds(15)), "no leader elected")
            // Fill the file system: the next save's write fails with ENOSPC.
            let (fill, _, fillError) = try await run("/bin/dd", ["if=/dev/zero", "of=\(mountPoint)/filler", "bs=64k"])
            #expect(fill != 0 && fillError.contains("No space left on device"), "dd: \(fillError)")

            // A transfer starts a new term, which every node must save before it takes part.
            let target: UInt64 = first.self_ == 1 ? 2 : 1
            _ = try await HTTPClient.request(
                .POST, host: "127.0.0.1", port: cluster.node(NodeID(first.self_)!).httpPort, path: "/transfer?to=\(target)",
                timeout: .seconds(5))
            let node3 = cluster.node(3)
            var health = 0
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                health = (try? await HTTPClient.request(.GET, host: "127.0.0.1", port: node3.httpPort, path: "/healthz").status) ?? 0
                if health == 503 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(health == 503, "node 3 should report itself unhealthy")
            let metrics = try await HTTPClient.request(.GET, host: "127.0.0.1", port: node3.httpPort, path: "/metrics").text
            #expect(metrics.contains("ballot_halted{reason=\"state_write_failed\"} 1"), "\(metrics.prefix(400))")
            let failures = metrics.split(separator: "\n").first { $0.hasPrefix("ballot_state_write_failures_total ") }
            #expect((failures.flatMap { Double($0.split(separator: " ")[1]) } ?? 0) >= 1)
            #expect(node3.isRunning, "a halted node keeps serving its status")
            #expect(node3.log.contains("cannot persist hard state"), "\(node3.log.suffix(1000))")
            let survivor = await cluster.waitForLeader(excluding: 3, timeout: .seconds(10))
            #expect(survivor != nil, "nodes 1 and 2 keep a leader")
        } catch {
            for node in cluster.nodes { print("--- node \(node.id) log ---\n\(node.log.suffix(2000))") }
            await cluster.stopAll()
            _ = try? await run("/bin/umount", [mountPoint])
            throw error
        }
        await cluster.stopAll()
        _ = try await run("/bin/umount", [mountPoint])
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: Processes

    func start(_ binary: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ChildProcess {
        try ChildProcess(binary, arguments: arguments, environment: environment, output: .null, error: .null)
    }

    func stop(_ process: ChildProcess) {
        if process.signal(SIGKILL) { process.waitForExitBlocking(timeout: .seconds(30)) }
    }

    /// Runs a command to completion (bounded) and returns its status, standard output and error.
    func run(_ binary: String, _ arguments: [String], environment: [String: String] = [:],
             timeout: Duration = .seconds(20)) async throws -> (Int32, String, String) {
        let process = try ChildProcess(binary, arguments: arguments, environment: environment, output: .pipe, error: .pipe)
        async let out = process.standardOutput?.readTextInBackground()
        async let err = process.standardError?.readTextInBackground()
        guard let exit = await process.waitForExit(timeout: timeout) else {
            stop(process)
            throw HarnessError("\(binary) \(arguments.joined(separator: " ")) did not exit within \(timeout)")
        }
        return (exit.shellStatus, await out ?? "", await err ?? "")
    }

    /// Polls `/leader` of every port until exactly one node reports itself leader.
    func waitForLeader(httpPorts: [Int], timeout: Duration) async -> LeaderView? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var leaders: [LeaderView] = []
            for port in httpPorts {
                if let response = try? await HTTPClient.request(.GET, host: "127.0.0.1", port: port, path: "/leader", timeout: .milliseconds(500)),
                   let view = try? JSONDecoder().decode(LeaderView.self, from: Data(response.body)), view.isLeader
                {
                    leaders.append(view)
                }
            }
            if leaders.count == 1 { return leaders[0] }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }
}
