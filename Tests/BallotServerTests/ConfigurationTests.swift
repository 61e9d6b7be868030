#if canImport(Glibc)
import BallotClient
import Glibc
#endif
import BallotCore
import Foundation
import Testing
@testable import BallotServer

private func address(_ text: String) -> SocketAddressSpec {
    try! SocketAddressSpec(parsing: text)
}

private func peer(_ text: String) -> PeerAddress {
    try! PeerAddress(parsing: text)
}

/// A valid three-node configuration for node 1, with `change` applied to its settings.
private func settings(_ change: (inout NodeSettings) -> Void = { _ in }) -> NodeSettings {
    var settings = NodeSettings(
        id: 1, listen: address("127.0.0.1:7001"), dataDirectory: "/tmp/ballot-1",
        peers: [peer("2=127.0.0.1:7002"), peer("3=127.0.0.1:7003")])
    change(&settings)
    return settings
}

@Suite struct NodeConfigurationTests {
    @Test func fillsInDefaults() throws {
        let configuration = try NodeConfiguration(
            NodeSettings(id: 1, listen: address("127.0.0.1:7001"), dataDirectory: "/tmp/d"))
        #expect(configuration.id == 1)
        #expect(configuration.peers.isEmpty)
        #expect(configuration.httpAddress == nil)
        #expect(configuration.cluster == ClusterName.default)
        #expect(configuration.electionTimeout == .seconds(1))
        #expect(configuration.heartbeatInterval == .milliseconds(100))
        #expect(configuration.maxFrameSize == 65536)
        #expect(configuration.algorithm == .raft)
        #expect(configuration.membership == Membership([1]))
    }

    @Test func keepsPeersSortedByID() throws {
        let configuration = try NodeConfiguration(settings {
            $0.id = 2
            $0.listen = address("127.0.0.1:7002")
            $0.peers = [peer("5=127.0.0.1:7005"), peer("1=127.0.0.1:7001"), peer("3=127.0.0.1:7003")]
        })
        #expect(configuration.peers.map(\.id) == [1, 3, 5])
        #expect(configuration.membership.members == [1, 2, 3, 5])
        #expect(configuration.peerAddresses[5] == address("127.0.0.1:7005"))
    }

    @Test func requiresIDListenAddressAndDataDirectory() {
        #expect(throws: ConfigurationError.missingSetting(.id)) { try NodeConfiguration(settings { $0.id = nil }) }
        #expect(throws: ConfigurationError.missingSetting(.listen)) {
            try NodeConfiguration(settings { $0.listen = nil })
        }
        #expect(throws: ConfigurationError.missingSetting(.dataDirectory)) {
            try NodeConfiguration(settings { $0.dataDirectory = nil })
        }
        #expect(ConfigurationError.missingSetting(.dataDirectory).description
            == "no data directory given; pass --data-dir, set BALLOT_DATA_DIR or set data_dir: in the configuration file")
    }

    @Test func rejectsAnEmptyDataDirectory() {
        #expect(throws: ConfigurationError.dataDirectoryUnusable(path: "", .empty)) {
            try NodeConfiguration(settings { $0.dataDirectory = "" })
        }
    }

    @Test func rejectsTheNodeAmongItsPeers() {
        #expect(throws: ConfigurationError.nodeAmongPeers(1)) {
            try NodeConfiguration(settings { $0.peers! += [peer("1=127.0.0.1:7009")] })
        }
    }

    @Test func rejectsDuplicatePeerIDs() {
        #expect(throws: ConfigurationError.duplicatePeer(3)) {
            try NodeConfiguration(settings { $0.peers! += [peer("3=127.0.0.1:7009")] })
        }
    }

    @Test func rejectsAWildcardPeerAddress() {
        #expect(throws: ConfigurationError.wildcardPeerAddress(4, address("0.0.0.0:7004"))) {
            try NodeConfiguration(settings { $0.peers! += [peer("4=0.0.0.0:7004")] })
        }
    }

    @Test func rejectsTwoPeersOnOneAddress() {
        #expect(throws: ConfigurationError.sharedAddress(address("127.0.0.1:7002"), .peer(2), .peer(4))) {
            try NodeConfiguration(settings { $0.peers! += [peer("4=127.0.0.1:7002")] })
        }
    }

    @Test func rejectsAPeerOnTheListenAddressUnderAnotherName() {
        #expect(throws: ConfigurationError.sharedAddress(address("localhost:7001"), .listener(1), .peer(4))) {
            try NodeConfiguration(settings { $0.peers! += [peer("4=localhost:7001")] })
        }
    }

    @Test func rejectsHTTPOnThePeerPort() {
        #expect(throws: ConfigurationError.sharedAddress(address("0.0.0.0:7001"), .listener(1), .http(1))) {
            try NodeConfiguration(settings { $0.http = address("0.0.0.0:7001") })
        }
        let message = ConfigurationError.sharedAddress(address("0.0.0.0:7001"), .listener(1), .http(1)).description
        #expect(message.contains("0.0.0.0:7001 is used by both node 1's peer listener (--listen)"))
        #expect(message.contains("node 1's HTTP endpoint (--http)"))
    }

    @Test func acceptsAWildcardListenerWithRemotePeersOnTheSamePort() throws {
        let configuration = try NodeConfiguration(settings {
            $0.listen = address("0.0.0.0:7000")
            $0.http = address("0.0.0.0:8000")
            $0.peers = [peer("2=10.0.0.2:7000"), peer("3=node-3.internal:7000")]
            $0.insecurePeers = true  // Off loopback: unauthenticated peers must be asked for.
        })
        #expect(configuration.peers.count == 2)
    }

    @Test(arguments: [1023, 16 << 20 + 1, 0, -1])
    func rejectsAMaxFrameSizeOutOfRange(size: Int) {
        #expect(throws: ConfigurationError.maxFrameSizeOutOfRange(size)) {
            try NodeConfiguration(settings { $0.maxFrameSize = size })
        }
    }

    @Test(arguments: [1024, 65536, 16 << 20])
    func acceptsAMaxFrameSizeInRange(size: Int) throws {
        #expect(try NodeConfiguration(settings { $0.maxFrameSize = size }).maxFrameSize == size)
    }

    @Test func rejectsAHeartbeatBelowOneMillisecond() {
        #expect(throws: ConfigurationError.heartbeatTooShort(.microseconds(500))) {
            try NodeConfiguration(settings { $0.heartbeatInterval = .microseconds(500) })
        }
    }

    @Test func rejectsAHeartbeatAboveAThirdOfTheElectionTimeout() throws {
        #expect(throws: ConfigurationError.heartbeatTooLong(heartbeat: .milliseconds(334), electionTimeout: .seconds(1))) {
            try NodeConfiguration(settings { $0.heartbeatInterval = .milliseconds(334) })
        }
        // Exactly a third is allowed.
        #expect(try NodeConfiguration(settings {
            $0.heartbeatInterval = .milliseconds(300)
            $0.electionTimeout = .milliseconds(900)
        }).heartbeatInterval == .milliseconds(300))
        #expect(ConfigurationError.heartbeatTooLong(heartbeat: .milliseconds(400), electionTimeout: .seconds(1)).description
            == "heartbeat interval 400ms is more than a third of the election timeout 1s, so a follower could time out "
            + "between heartbeats; lower the heartbeat interval to at most 333.333333ms or raise the election timeout "
            + "to at least 1.2s")
    }

    @Test func rejectsAnElectionTimeoutOfFewerThanTenTicks() throws {
        // Heartbeat 1ms → tick 1ms; 9ms would be 9 ticks.
        #expect(throws: ConfigurationError.electionTimeoutTooShort(electionTimeout: .milliseconds(9), tick: .milliseconds(1))) {
            try NodeConfiguration(settings {
                $0.heartbeatInterval = .milliseconds(1)
                $0.electionTimeout = .milliseconds(9)
            })
        }
        let configuration = try NodeConfiguration(settings {
            $0.heartbeatInterval = .milliseconds(1)
            $0.electionTimeout = .milliseconds(10)
        })
        #expect(configuration.electionTimeoutTicks == 10)
        #expect(ConfigurationError.electionTimeoutTooShort(electionTimeout: .milliseconds(9), tick: .milliseconds(1))
            .description == "election timeout 9ms is shorter than 10 ticks of 1ms; raise it to at least 10ms")
    }

    @Test func rejectsAnElectionTimeoutAboveTenMinutes() throws {
        #expect(throws: ConfigurationError.electionTimeoutTooLong(.seconds(601))) {
            try NodeConfiguration(settings { $0.electionTimeout = .seconds(601) })
        }
        #expect(try NodeConfiguration(settings { $0.electionTimeout = .seconds(600) }).electionTimeout == .seconds(600))
    }

    /// tick = clamp(⌊heartbeat / 5⌋ms, 1ms, 10ms); durations round down to whole ticks.
    @Test(arguments: [
        (Duration.milliseconds(100), Duration.seconds(1), Duration.milliseconds(10), UInt64(10), UInt64(100)),
        (.milliseconds(20), .seconds(1), .milliseconds(4), 5, 250),
        (.milliseconds(13), .milliseconds(100), .milliseconds(2), 6, 50),
        (.milliseconds(55), .seconds(1), .milliseconds(10), 5, 100),
        (.milliseconds(200), .milliseconds(1500), .milliseconds(10), 20, 150),
        (.milliseconds(1), .milliseconds(10), .milliseconds(1), 1, 10),
        (.milliseconds(4), .milliseconds(15), .milliseconds(1), 4, 15),
        (.milliseconds(7), .milliseconds(25), .milliseconds(1), 7, 25),
        (.milliseconds(15), .milliseconds(50), .milliseconds(3), 5, 16),
    ])
    func derivesTicks(heartbeat: Duration, timeout: Duration, tick: Duration, heartbeatTicks: UInt64, timeoutTicks: UInt64) throws {
        let configuration = try NodeConfiguration(settings {
            $0.heartbeatInterval = heartbeat
            $0.electionTimeout = timeout
        })
        #expect(configuration.tickInterval == tick)
        #expect(configuration.heartbeatIntervalTicks == heartbeatTicks)
        #expect(configuration.electionTimeoutTicks == timeoutTicks)
        let raft = configuration.raftConfiguration
        #expect(raft.heartbeatIntervalTicks == heartbeatTicks)
        #expect(raft.electionTimeoutTicks == timeoutTicks)
        #expect(raft.preVote && raft.checkQuorum && raft.leaderStickiness)
        #expect(throws: Never.self) { try raft.validate() }
    }

    @Test func derivedRaftConfigurationsAlwaysValidate() throws {
        // Every heartbeat from 1ms to 60ms with the shortest and a long allowed timeout.
        for heartbeatMilliseconds in 1...60 {
            let heartbeat = Duration.milliseconds(heartbeatMilliseconds)
            let tick = NodeConfiguration.tickInterval(heartbeatInterval: heartbeat)
            let shortest = max(heartbeat * 3, tick * 10)
            for timeout in [shortest, .seconds(10)] {
                let configuration = try NodeConfiguration(settings {
                    $0.heartbeatInterval = heartbeat
                    $0.electionTimeout = timeout
                })
                #expect(throws: Never.self) { try configuration.raftConfiguration.validate() }
                #expect(configuration.electionTimeoutTicks >= 10)
                #expect(configuration.heartbeatIntervalTicks >= 1)
                #expect(configuration.heartbeatIntervalTicks * 3 <= configuration.electionTimeoutTicks)
            }
        }
    }
}

@Suite struct FlagSettingsTests {
    @Test func appliesEveryFlag() throws {
        var flags = NodeSettings()
        try flags.apply(flag: .id, value: "3")
        try flags.apply(flag: .listen, value: "127.0.0.1:7003")
        try flags.apply(flag: .http, value: "[::1]:8003")
        try flags.apply(flag: .dataDirectory, value: "/var/lib/ballot/3")
        try flags.apply(flag: .cluster, value: "prod")
        try flags.apply(flag: .electionTimeout, value: "1.5s")
        try flags.apply(flag: .heartbeatInterval, value: "150ms")
        try flags.apply(flag: .maxFrameSize, value: "4096")
        try flags.apply(flag: .algorithm, value: "bully")
        try flags.apply(flag: .peers, value: "1=127.0.0.1:7001")
        try flags.apply(flag: .peers, value: "2=127.0.0.1:7002")
        #expect(flags == NodeSettings(
            id: 3, listen: address("127.0.0.1:7003"), http: address("[::1]:8003"),
            dataDirectory: "/var/lib/ballot/3", cluster: try ClusterName("prod"),
            electionTimeout: .milliseconds(1500), heartbeatInterval: .milliseconds(150), maxFrameSize: 4096,
            algorithm: .bully, peers: [peer("1=127.0.0.1:7001"), peer("2=127.0.0.1:7002")]))
    }

    @Test(arguments: [
        (ConfigurationKey.id, "0", ConfigurationError.invalidNodeID("0")),
        (.listen, "127.0.0.1", .invalidAddress("127.0.0.1", .missingPort)),
        (.http, "localhost:0", .invalidAddress("localhost:0", .invalidPort("0"))),
        (.dataDirectory, "", .dataDirectoryUnusable(path: "", .empty)),
        (.cluster, "", .invalidClusterName("", .empty)),
        (.electionTimeout, "1x", .invalidDuration("1x", .unknownUnit("x"))),
        (.heartbeatInterval, "0ms", .invalidDuration("0ms", .zero)),
        (.maxFrameSize, "64k", .invalidInteger("64k")),
        (.maxFrameSize, "-1", .invalidInteger("-1")),
        (.algorithm, "paxos", .unknownAlgorithm("paxos")),
        (.peers, "2", .invalidPeer("2", .missingSeparator)),
    ])
    func flagErrorsNameTheFlag(key: ConfigurationKey, value: String, error: ConfigurationError) {
        var flags = NodeSettings()
        #expect(throws: ConfigurationError.invalidSetting(.flag(key), error)) {
            try flags.apply(flag: key, value: value)
        }
    }

    @Test func flagErrorMessageStartsWithTheFlag() {
        var flags = NodeSettings()
        let error = #expect(throws: ConfigurationError.self) {
            try flags.apply(flag: .electionTimeout, value: "1x")
        }
        #expect(error?.description == "--election-timeout: \"1x\": unknown unit 'x'; use ms, s or m")
    }

    @Test func flagsOverrideFileValues() throws {
        let file = settings {
            $0.electionTimeout = .seconds(2)
            $0.cluster = try! ClusterName("from-file")
        }
        let flags = NodeSettings(electionTimeout: .milliseconds(900), peers: [peer("4=127.0.0.1:7004")])
        let merged = file.overridden(by: flags)
        #expect(merged.electionTimeout == .milliseconds(900))
        #expect(merged.cluster == (try ClusterName("from-file")))
        #expect(merged.id == 1)
        // Peers from flags replace the file's list as a whole.
        #expect(merged.peers == [peer("4=127.0.0.1:7004")])
        #expect(file.overridden(by: NodeSettings()) == file)
        #expect(NodeSettings().overridden(by: file) == file)
    }
}

@Suite struct DataDirectoryCheckTests {
    @Test func createsTheDirectoryAndLeavesItEmpty() throws {
        try withTemporaryDirectory { root in
            let path = root + "/a/b/node-1"
            let configuration = try NodeConfiguration(settings { $0.dataDirectory = path })
            try configuration.checkDataDirectory()
            #expect(FileSystem.isDirectory(path))
            #expect(try directoryEntries(path).isEmpty)
            // A second check on the existing directory passes too.
            try configuration.checkDataDirectory()
        }
    }

    @Test func reportsADirectoryThatCannotBeCreated() throws {
        try withTemporaryDirectory { root in
            try writeFile(root + "/file", "not a directory")
            let path = root + "/file/sub"
            let configuration = try NodeConfiguration(settings { $0.dataDirectory = path })
            let mkdirError = SystemCallError(operation: "mkdir", path: root + "/file", code: ENOTDIR)
            #expect(throws: ConfigurationError.dataDirectoryUnusable(path: path, .cannotCreate(mkdirError))) {
                try configuration.checkDataDirectory()
            }
            let message = ConfigurationError.dataDirectoryUnusable(path: path, .cannotCreate(mkdirError)).description
            #expect(message.contains("Not a directory"))
            #expect(message.contains("--data-dir"))
        }
    }

    @Test func reportsARegularFileGivenAsTheDirectory() throws {
        try withTemporaryDirectory { root in
            let path = root + "/file"
            try writeFile(path, "x")
            let configuration = try NodeConfiguration(settings { $0.dataDirectory = path })
            #expect(throws: ConfigurationError.dataDirectoryUnusable(
                path: path, .cannotCreate(SystemCallError(operation: "mkdir", path: path, code: ENOTDIR)))) {
                try configuration.checkDataDirectory()
            }
        }
    }

    /// sysfs refuses new files even to root, which permission bits cannot do in a root test run.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/sys/kernel")))
    func reportsADirectoryThatCannotBeWritten() throws {
        let configuration = try NodeConfiguration(settings { $0.dataDirectory = "/sys" })
        let error = #expect(throws: ConfigurationError.self) { try configuration.checkDataDirectory() }
        guard case .dataDirectoryUnusable("/sys", .notWritable(let cause)) = error else {
            Issue.record("expected the probe file to be refused, got \(String(describing: error))")
            return
        }
        #expect(cause.operation == "open")
    }

    @Test func loadReadsTheFileAppliesFlagsAndChecksTheDirectory() throws {
        try withTemporaryDirectory { root in
            let file = root + "/ballot.yaml"
            try writeFile(file, """
                id: 1
                listen: 127.0.0.1:7001
                data_dir: \(root)/data
                election_timeout: 2s
                peers:
                  2: 127.0.0.1:7002
                """)
            var flags = NodeSettings()
            try flags.apply(flag: .electionTimeout, value: "500ms")
            let configuration = try NodeConfiguration.load(configFile: file, flags: flags)
            #expect(configuration.electionTimeout == .milliseconds(500))
            #expect(configuration.peers == [peer("2=127.0.0.1:7002")])
            #expect(FileSystem.isDirectory(root + "/data"))
        }
    }

    @Test func loadWithoutAFileUsesFlagsAlone() throws {
        try withTemporaryDirectory { root in
            var flags = NodeSettings()
            try flags.apply(flag: .id, value: "1")
            try flags.apply(flag: .listen, value: "127.0.0.1:7001")
            try flags.apply(flag: .dataDirectory, value: root + "/d")
            let configuration = try NodeConfiguration.load(configFile: nil, flags: flags)
            #expect(configuration.dataDirectory == root + "/d")
            #expect(throws: ConfigurationError.missingSetting(.id)) {
                try NodeConfiguration.load(configFile: nil, flags: NodeSettings())
            }
        }
    }
}

/// Issue 15's settings: priority, preemption window, advertised URL.
@Suite struct ApplicationSettingsTests {
    @Test func defaultsAndFlagsAndYAML() throws {
        let defaults = try NodeConfiguration(settings())
        #expect(defaults.priority == 0 && defaults.preemptAfter == .seconds(30) && defaults.advertisedHTTP == nil)
        #expect(defaults.raftConfiguration.preemptAfterTicks == 3_000)
        var flags = NodeSettings()
        try flags.apply(flag: .priority, value: "7")
        try flags.apply(flag: .preemptAfter, value: "5s")
        try flags.apply(flag: .advertiseHTTP, value: "https://node-1.internal:9101")
        let configured = try NodeConfiguration(settings().overridden(by: flags))
        #expect(configured.priority == 7 && configured.preemptAfter == .seconds(5))
        #expect(configured.advertisedHTTP == "https://node-1.internal:9101")
        #expect(configured.raftConfiguration.preemptAfterTicks == 500)
        let yaml = try NodeSettings(yaml: "priority: 3\npreempt_after: 10s\nadvertise_http: http://10.0.0.1:9101\n")
        #expect(yaml.priority == 3 && yaml.preemptAfter == .seconds(10) && yaml.advertiseHTTP == "http://10.0.0.1:9101")
    }

    @Test(arguments: [
        (ConfigurationKey.priority, "65536"), (.priority, "-1"), (.priority, "high"),
        (.advertiseHTTP, "10.0.0.1:9101"), (.advertiseHTTP, "http://"), (.advertiseHTTP, "http://a b"),
        (.advertiseHTTP, "http://" + String(repeating: "a", count: 250)), (.preemptAfter, "soon"),
    ])
    func badValuesAreRefusedNamingTheFlag(key: ConfigurationKey, value: String) {
        var flags = NodeSettings()
        let error = #expect(throws: ConfigurationError.self) { try flags.apply(flag: key, value: value) }
        #expect(error?.description.hasPrefix(key.flag) == true, "\(String(describing: error))")
    }

    @Test func aWindowShorterThanTheElectionTimeoutOrAPriorityWithoutRaftIsRefused() {
        #expect(throws: ConfigurationError.preemptionWindowTooShort(preemptAfter: .milliseconds(500), electionTimeout: .seconds(1))) {
            try NodeConfiguration(settings { $0.preemptAfter = .milliseconds(500) })
        }
        #expect(throws: ConfigurationError.candidacyNeedsRaft(.bully)) {
            try NodeConfiguration(settings { $0.priority = 2; $0.algorithm = .bully })
        }
    }

    @Test func aLeaseDurationIsCappedToTicksAndRefusedOutsideTwoHeartbeatsToTheLongest() throws {
        // Defaults: heartbeat 100 ms, T 1 s, tick 10 ms; the longest lease is ⌊99 · 0.95/1.05⌋ = 89 ticks.
        let capped = try NodeConfiguration(settings { $0.leaseDuration = .milliseconds(250) })
        #expect(capped.raftConfiguration.leaseLimitTicks == 25)
        #expect(capped.raftConfiguration.leaseTicks == 25)
        #expect(capped.raftConfiguration.leasePromiseTicks == 29, "⌈25 · 1.05/0.95⌉ + 1")
        #expect(try NodeConfiguration(settings { _ in }).raftConfiguration.leaseLimitTicks == nil)
        let tooShort = ConfigurationError.leaseDurationOutOfRange(
            .milliseconds(190), shortest: .milliseconds(200), longest: .milliseconds(890))
        #expect(throws: tooShort) { try NodeConfiguration(settings { $0.leaseDuration = .milliseconds(190) }) }
        #expect(tooShort.description.contains("--lease-duration"))
        #expect(throws: ConfigurationError.leaseDurationOutOfRange(.milliseconds(900), shortest: .milliseconds(200), longest: .milliseconds(890))) {
            try NodeConfiguration(settings { $0.leaseDuration = .milliseconds(900) })
        }
        #expect(throws: ConfigurationError.leaseDurationNeedsRaft(.ring)) {
            try NodeConfiguration(settings { $0.leaseDuration = .milliseconds(250); $0.algorithm = .ring })
        }
    }
}
