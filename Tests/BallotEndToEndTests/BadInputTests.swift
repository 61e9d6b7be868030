import BallotCore
import BallotHarness
import BallotClient
import BallotWire
import Foundation
import Glibc
import Testing

/// Bad flags refuse to start with a precise message; bad peers are cut off while the node keeps going.
@Suite(.serialized) struct BadInputTests {
    func serve(_ extra: [String], dataDir: String? = nil) -> [String] {
        ["serve", "--id", "1", "--listen", "127.0.0.1:\(LoopbackPorts.consecutiveFree(1, from: 41_000))",
         "--data-dir", dataDir ?? temporaryDirectory("bad-flags")] + extra
    }

    @Test(arguments: [
        (["--peer", "2=127.0.0.1:7002", "--peer", "2=127.0.0.1:7003"], "2"),
        (["--peer", "1=127.0.0.1:7002"], "itself"),
        (["--peer", "2=127.0.0.1:7002", "--heartbeat-interval", "500ms", "--election-timeout", "1s"], "heartbeat"),
        (["--peer", "2=127.0.0.1:notaport"], "notaport"),
        (["--peer", "2=127.0.0.1:7002", "--election-timeout", "1x"], "unknown unit"),
        (["--id", "0"], "node ID"),
    ])
    func badFlagsAreRefusedWithAPreciseMessage(flags: [String], mentions: String) async throws {
        let (status, stderr) = try await runBallot(serve(flags))
        #expect(status != 0)
        #expect(stderr.contains("error:"), "\(stderr)")
        #expect(stderr.contains(mentions), "\(stderr)")
    }

    @Test func anUnwritableDataDirectoryIsRefused() async throws {
        let file = temporaryDirectory("unwritable") + "/plain-file"
        _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        let (status, stderr) = try await runBallot(serve(["--peer", "2=127.0.0.1:7002"], dataDir: file + "/sub"))
        #expect(status != 0)
        #expect(stderr.contains(file), "\(stderr)")
    }

    @Test func aPortInUseIsRefused() async throws {
        let port = LoopbackPorts.consecutiveFree(1, from: 42_000)
        let holder = try #require(LoopbackPorts.socket(boundTo: port))
        defer { close(holder) }
        listen(holder, 1)
        let (status, stderr) = try await runBallot([
            "serve", "--id", "1", "--listen", "127.0.0.1:\(port)", "--peer", "2=127.0.0.1:7002",
            "--data-dir", temporaryDirectory("port-in-use"),
        ])
        #expect(status != 0)
        #expect(stderr.contains("already in use"), "\(stderr)")
    }

    @Test func aCorruptStateFileStopsStartUpAndIsLeftAlone() async throws {
        let dir = temporaryDirectory("corrupt")
        let statePath = dir + "/hard-state"
        let garbage = Data("this is not a ballot state file".utf8)
        _ = FileManager.default.createFile(atPath: statePath, contents: garbage)
        let (status, stderr) = try await runBallot(serve(["--peer", "2=127.0.0.1:7002"], dataDir: dir))
        #expect(status != 0)
        #expect(stderr.contains(statePath), "\(stderr)")
        #expect(FileManager.default.contents(atPath: statePath) == garbage, "the file must not be overwritten")
    }

    /// Garbage, truncated, oversized and wrong-cluster input: the connection is closed, the
    /// rejection is counted, and the cluster keeps its leader.
    @Test func junkFromTheNetworkIsRejectedAndTheClusterCarriesOn() async throws {
        try await withCluster { cluster in
            let leader = try #require(await cluster.waitForLeader(timeout: .seconds(15)))
            let target = cluster.nodes[0]
            let wrongCluster = FrameEncoder.encode(.handshake(Handshake(
                nodeID: 2, clusterName: try ClusterName("other"), algorithm: .raft)))
            let inputs: [(String, [UInt8])] = [
                ("garbage", Array("GET / HTTP/1.1\r\n\r\n".utf8)),  // Its first bytes read as a huge length.
                ("bad magic", [0, 0, 0, 6, 0x01, 0x01] + Array("XXXX".utf8)),
                ("oversized", [0x7F, 0xFF, 0xFF, 0xFF, 0x01, 0x01]),
                ("truncated", Array(wrongCluster.prefix(9))),
                ("wrong_cluster", wrongCluster),
            ]
            for (name, bytes) in inputs {
                let closed = try RawConnection.sendAndAwaitClose(bytes, port: target.peerPort, timeout: .seconds(3),
                                                                 halfClose: name == "truncated")
                #expect(closed, "\(name): the node should close the connection")
            }
            let metrics = try await HTTPClient.request(.GET, host: "127.0.0.1", port: target.httpPort, path: "/metrics").text
            for reason in ["malformed", "oversized", "wrong_cluster"] {
                let line = metrics.split(separator: "\n").first { $0.hasPrefix("ballot_peer_frames_rejected_total{reason=\"\(reason)\"}") }
                let value = line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
                #expect(value >= 1, "rejections with reason \(reason): \(String(describing: line))")
            }
            try await Task.sleep(for: .milliseconds(500))
            let still = try #require(await cluster.currentLeader())
            #expect(still.self_ == leader.self_ && still.term == leader.term, "the leader must be unaffected")
        }
    }

    @Test func nodesOfDifferentClustersNeverTalk() async throws {
        try await withCluster(nodes: 2, cluster: "alpha") { alpha in
            // A node configured with alpha's addresses but another cluster name.
            let node2 = alpha.node(2)
            await node2.stop()
            let args = node2.arguments.map { $0 == "alpha" ? "beta" : $0 }
            let (status, _) = try await runBallotBriefly(args, for: .seconds(2))
            #expect(status == nil, "the beta node should keep running")
            let view = try #require(await alpha.leaderView(of: 1), "node 1 must keep answering")
            #expect(view.leader == nil || view.leader == 1, "node 1 must not follow a foreign node: \(view)")
            let metrics = try await HTTPClient.request(.GET, host: "127.0.0.1", port: alpha.node(1).httpPort, path: "/metrics").text
            #expect(metrics.contains("ballot_peer_frames_rejected_total{reason=\"wrong_cluster\"}"))
            let line = metrics.split(separator: "\n").first { $0.hasPrefix("ballot_peer_frames_rejected_total{reason=\"wrong_cluster\"}") }
            #expect((line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0) >= 1)
        }
    }
}

/// Runs ballot for a while and stops it; returns its exit status if it exited by itself.
func runBallotBriefly(_ arguments: [String], for duration: Duration) async throws -> (status: Int32?, stderr: String) {
    let process = try ChildProcess(try ballotBinary(), arguments: arguments, output: .null, error: .null)
    try await Task.sleep(for: duration)
    guard let exit = process.exit else {
        process.signal(SIGKILL)
        await process.waitForExit(timeout: .seconds(10))
        return (nil, "")
    }
    return (exit.shellStatus, "")
}

/// A plain TCP client for sending hand-made bytes to a peer port.
enum RawConnection {
    /// Sends `bytes` and reports whether the peer closed the connection within `timeout`.
    static func sendAndAwaitClose(_ bytes: [UInt8], port: Int, timeout: Duration, halfClose: Bool) throws -> Bool {
        guard let fd = LoopbackPorts.socket(connectedTo: port) else {
            throw HarnessError("cannot connect to 127.0.0.1:\(port)")
        }
        defer { close(fd) }
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if halfClose { shutdown(fd, Int32(SHUT_WR)) }
        var tv = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { return true }  // Orderly close by the node.
            if n < 0 { return errno == ECONNRESET }
        }
        return false
    }
}
