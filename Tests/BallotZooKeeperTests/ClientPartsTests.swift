import BallotHarness
import BallotZooKeeper
import Testing

/// The client's pure parts: paths, sequence numbers, connect strings, configuration.
@Suite("Client parts")
struct ClientPartsTests {
    @Test("Paths are absolute, without empty, . or .. components; a sequential create may end in /")
    func paths() {
        for valid in ["/", "/a", "/a/b-c", "/élection/n-"] {
            #expect(ZooKeeperPath.problem(with: valid) == nil, "\(valid)")
        }
        for invalid in ["", "a", "/a/", "//a", "/a//b", "/a/./b", "/a/..", "/a\u{0}b"] {
            #expect(ZooKeeperPath.problem(with: invalid) != nil, "\(invalid)")
        }
        #expect(ZooKeeperPath.problem(with: "/election/", sequential: true) == nil)
        #expect(ZooKeeperPath.problem(with: "/election//", sequential: true) != nil)
    }

    @Test("Sequence numbers are the last ten characters of a sequential node's name")
    func sequenceNumbers() {
        #expect(ZooKeeperPath.sequenceNumber(ofName: "n-0000000042") == 42)
        #expect(ZooKeeperPath.sequenceNumber(ofName: "0000000000") == 0)
        #expect(ZooKeeperPath.sequenceNumber(ofName: "n-2147483647") == Int32.max)
        // After 2^31 - 1 the counter wraps and `%010d` prints it with its sign.
        #expect(ZooKeeperPath.sequenceNumber(ofName: "n-000000042") == -42)
        #expect(ZooKeeperPath.sequenceNumber(ofName: "n000000042") == nil)
        #expect(ZooKeeperPath.sequenceNumber(ofName: "n-00000x0042") == nil)
        #expect(ZooKeeperPath.lastComponent(of: "/a/b/n-1") == "n-1")
    }

    @Test("Connect strings: host:port lists, IPv6 in brackets; chroot and bad ports refused")
    func connectStrings() throws {
        #expect(try ZooKeeperServerAddress.parseList("127.0.0.1:2181, zk2:2182,[::1]:2183") == [
            ZooKeeperServerAddress(host: "127.0.0.1", port: 2181), ZooKeeperServerAddress(host: "zk2", port: 2182),
            ZooKeeperServerAddress(host: "::1", port: 2183),
        ])
        #expect(ZooKeeperServerAddress(host: "::1", port: 2183).description == "[::1]:2183")
        for bad in ["", "a", "a:0", "a:65536", ":1", "a:1,", "a:1/app", "[::1]2181", "a:x"] {
            #expect(throws: ZooKeeperConfigurationError.self, "\(bad)") { try ZooKeeperServerAddress.parseList(bad) }
        }
    }

    @Test("Configuration: no servers, zero timeouts and tiny limits are refused before connecting")
    func configuration() async throws {
        let server = ZooKeeperServerAddress(host: "127.0.0.1", port: 1)
        await #expect(throws: ZooKeeperError.invalidConfiguration(.noServers)) {
            _ = try await connectClient(ZooKeeperConfiguration(servers: []))
        }
        #expect(throws: ZooKeeperConfigurationError.invalidSessionTimeout(.zero)) {
            try ZooKeeperConfiguration(servers: [server], sessionTimeout: .zero).validate()
        }
        #expect(throws: ZooKeeperConfigurationError.self) {
            try ZooKeeperConfiguration(servers: [server], limits: ZooKeeperLimits(maxFrameLength: 10)).validate()
        }
        #expect(throws: Never.self) { try ZooKeeperConfiguration(servers: [server]).validate() }
    }

    @Test("No server listening: connect gives up after its timeout, naming each server's failure")
    func nothingListening() async throws {
        let port = try #require((40_000..<41_000).first { LoopbackPorts.isFree($0) })
        let server = ZooKeeperServerAddress(host: "127.0.0.1", port: port)
        await #expect {
            _ = try await connectClient(ZooKeeperConfiguration(servers: [server], connectTimeout: .milliseconds(600)))
        } throws: { error in
            guard case .noServerReachable(let failures) = error as? ZooKeeperError,
                case .connectFailed = failures[server]
            else { return false }
            return true
        }
    }
}
