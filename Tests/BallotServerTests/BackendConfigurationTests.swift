import BallotBackends
import BallotClient
import BallotCore
import BallotZooKeeper
import Testing
@testable import BallotServer

/// `--backend etcd|zookeeper` and their settings, from flags and from YAML.
@Suite struct BackendConfigurationTests {
    func flags(_ pairs: [(ConfigurationKey, String)]) throws -> NodeSettings {
        var settings = NodeSettings()
        for (key, value) in pairs { try settings.apply(flag: key, value: value) }
        return settings
    }

    @Test func etcdFromFlagsWithDefaults() throws {
        let configuration = try NodeConfiguration(flags([
            (.id, "2"), (.dataDirectory, "/tmp/x"), (.backend, "etcd"), (.etcdEndpoints, "http://127.0.0.1:2379,http://127.0.0.1:2479"),
        ]))
        guard case .etcd(let etcd) = configuration.backend else {
            Issue.record("not etcd: \(configuration.backend)")
            return
        }
        #expect(etcd.endpoints.map(\.description) == ["http://127.0.0.1:2379", "http://127.0.0.1:2479"])
        #expect(etcd.leaseTTL == .seconds(5) && etcd.election == .default && etcd.credentialsFile == nil)
        #expect(configuration.listenAddress == nil && configuration.peers.isEmpty)
    }

    @Test func zooKeeperFromYAML() throws {
        let settings = try NodeSettings(yaml: """
            id: 3
            backend: zookeeper
            election: orders
            zookeeper: [127.0.0.1:2181, "zk-2:2181"]
            session_timeout: 6s
            zookeeper_follower_lag: 0s
            data_dir: /var/lib/ballot
            http: 127.0.0.1:9103
            """)
        let configuration = try NodeConfiguration(settings)
        guard case .zookeeper(let zooKeeper) = configuration.backend else {
            Issue.record("not zookeeper: \(configuration.backend)")
            return
        }
        #expect(zooKeeper.servers == [ZooKeeperServerAddress(host: "127.0.0.1", port: 2181), ZooKeeperServerAddress(host: "zk-2", port: 2181)])
        #expect(zooKeeper.election.rawValue == "orders" && zooKeeper.sessionTimeout == .seconds(6) && zooKeeper.followerLag == .zero)
    }

    @Test func flagsWinOverTheFileForBackendSettings() throws {
        let file = try NodeSettings(yaml: "id: 1\nbackend: etcd\netcd_endpoints: http://a:2379\nlease_ttl: 9s\ndata_dir: /d\n")
        let configuration = try NodeConfiguration(file: file, flags: try flags([(.leaseTTL, "3s")]))
        guard case .etcd(let etcd) = configuration.backend else {
            Issue.record("not etcd")
            return
        }
        #expect(etcd.leaseTTL == .seconds(3))
    }

    @Test func theOtherBackendsSettingsAreRefused() throws {
        #expect(throws: ConfigurationError.settingNotForBackend(.listen, .etcd)) {
            try NodeConfiguration(flags([(.id, "1"), (.dataDirectory, "/d"), (.backend, "etcd"),
                                         (.etcdEndpoints, "http://a:1"), (.listen, "127.0.0.1:7001")]))
        }
        #expect(throws: ConfigurationError.settingNotForBackend(.electionTimeout, .zookeeper)) {
            try NodeConfiguration(flags([(.id, "1"), (.dataDirectory, "/d"), (.backend, "zookeeper"),
                                         (.zookeeper, "a:1"), (.electionTimeout, "1s")]))
        }
        #expect(throws: ConfigurationError.settingNotForBackend(.sessionTimeout, .raft)) {
            try NodeConfiguration(flags([(.id, "1"), (.dataDirectory, "/d"), (.listen, "127.0.0.1:7001"), (.sessionTimeout, "4s")]))
        }
        #expect(throws: ConfigurationError.missingSetting(.zookeeper)) {
            try NodeConfiguration(flags([(.id, "1"), (.dataDirectory, "/d"), (.backend, "zookeeper")]))
        }
        let message = ConfigurationError.settingNotForBackend(.peers, .etcd).description
        #expect(message.contains("--peer is not used with --backend etcd") && message.contains("drop --listen and --peer"))
    }

    @Test func badBackendValuesNameTheFlag() {
        #expect(throws: ConfigurationError.invalidSetting(.flag(.backend), .unknownChoice("consul", allowed: ["raft", "etcd", "zookeeper"]))) {
            try flags([(.backend, "consul")])
        }
        #expect(throws: ConfigurationError.self) { try flags([(.election, "a/b")]) }
        #expect(throws: ConfigurationError.self) { try flags([(.etcdEndpoints, "127.0.0.1:2379")]) }
        #expect(throws: ConfigurationError.self) { try flags([(.zookeeper, "a:1/chroot")]) }
        #expect(throws: ConfigurationError.self) { try flags([(.zookeeperFollowerLag, "-1s")]) }
        #expect(throws: Never.self) { try flags([(.zookeeperFollowerLag, "0ms")]) }
    }

    /// The layers of main's catalogue: a backend from a variable, a Raft setting refused naming the
    /// layer that gave it, and ballotd (Raft only among the algorithms) running a backend.
    @Test func everyLayerCarriesBackendSettingsAndRefusalsNameTheLayer() throws {
        let layers = try ConfigurationLayers(
            program: .ballotd, flags: flags([(.id, "1"), (.dataDirectory, "/d")]),
            environment: ["BALLOT_BACKEND": "etcd", "BALLOT_ETCD_ENDPOINTS": "http://127.0.0.1:2379,http://127.0.0.1:2479"])
        let configuration = try layers.configuration()
        guard case .etcd(let etcd) = configuration.backend else {
            Issue.record("not etcd: \(configuration.backend)")
            return
        }
        #expect(etcd.endpoints.count == 2 && layers.source(of: .backend) == .environment)

        let listen = try ConfigurationLayers(
            program: .ballotd, flags: flags([(.id, "1"), (.dataDirectory, "/d"), (.backend, "etcd"), (.etcdEndpoints, "http://a:1")]),
            environment: ["BALLOT_LISTEN": "127.0.0.1:7001"])
        #expect(throws: ConfigurationError.settingNotForBackend(.listen, .etcd, origin: .environment(.listen))) {
            try listen.configuration()
        }
        let file = ConfigurationLayers(
            program: .ballotServe, flags: try flags([(.id, "1"), (.dataDirectory, "/d"), (.listen, "127.0.0.1:7001")]),
            file: try NodeSettings(yaml: "lease_ttl: 5s\n"), filePath: "/etc/ballot/ballotd.yaml")
        let error = #expect(throws: ConfigurationError.self) { try file.configuration() }
        #expect(error?.description == "lease_ttl in /etc/ballot/ballotd.yaml applies only to --backend etcd, not raft; drop it")
    }
}
