import BallotClient
import BallotCore
import Foundation
import Testing
import Yams
@testable import BallotServer

private func address(_ text: String) -> SocketAddressSpec {
    try! SocketAddressSpec(parsing: text)
}

private func peer(_ text: String) -> PeerAddress {
    try! PeerAddress(parsing: text)
}

private func flagSettings(_ pairs: [(ConfigurationKey, String)]) throws -> NodeSettings {
    var settings = NodeSettings()
    for (key, value) in pairs { try settings.apply(flag: key, value: value) }
    return settings
}

/// The environment layer: names derived from the YAML keys, errors naming the variable.
@Suite struct EnvironmentSettingsTests {
    @Test func variableNamesAreTheKeysInCapitals() {
        #expect(ConfigurationKey.electionTimeout.environmentVariable == "BALLOT_ELECTION_TIMEOUT")
        #expect(ConfigurationKey.dataDirectory.environmentVariable == "BALLOT_DATA_DIR")
        #expect(ConfigurationKey.peers.environmentVariable == "BALLOT_PEERS")
        #expect(ConfigurationKey.config.environmentVariable == "BALLOT_CONFIG")
        for key in ConfigurationKey.allCases {
            #expect(ConfigurationKey(environmentVariable: key.environmentVariable) == key)
        }
        #expect(ConfigurationKey(environmentVariable: "BALLOT_election_timeout") == nil)
        #expect(ConfigurationKey(environmentVariable: "BALLOT_BINARY") == nil)
    }

    @Test func readsEverySettingFromItsVariable() throws {
        let settings = try NodeSettings(environment: [
            "BALLOT_ID": "3", "BALLOT_LISTEN": "127.0.0.1:7003", "BALLOT_HTTP": "[::1]:8003",
            "BALLOT_DATA_DIR": "/var/lib/ballot/3", "BALLOT_CLUSTER": "prod", "BALLOT_ELECTION_TIMEOUT": "1.5s",
            "BALLOT_HEARTBEAT_INTERVAL": "150ms", "BALLOT_MAX_FRAME_SIZE": "4096", "BALLOT_ALGORITHM": "ring",
            "BALLOT_PEERS": "1=127.0.0.1:7001,2=127.0.0.1:7002", "BALLOT_LOG_LEVEL": "debug",
            "BALLOT_LOG_FORMAT": "logfmt", "BALLOT_EVENTS": "true", "BALLOT_CONFIG": "/etc/ballot/b.yaml",
            "PATH": "/usr/bin", "BALLOT_BINARY": "/x/ballot",
        ])
        var expected = NodeSettings(
            id: 3, listen: address("127.0.0.1:7003"), http: address("[::1]:8003"),
            dataDirectory: "/var/lib/ballot/3", cluster: try ClusterName("prod"),
            electionTimeout: .milliseconds(1500), heartbeatInterval: .milliseconds(150), maxFrameSize: 4096,
            algorithm: .ring, peers: [peer("1=127.0.0.1:7001"), peer("2=127.0.0.1:7002")], logLevel: .debug,
            logFormat: .logfmt, events: true)
        expected.config = "/etc/ballot/b.yaml"
        #expect(settings == expected)
    }

    @Test func anEmptyVariableCountsAsUnset() throws {
        #expect(try NodeSettings(environment: ["BALLOT_HTTP": "", "BALLOT_PEERS": ""]) == NodeSettings())
    }

    @Test(arguments: [
        ("BALLOT_ELECTION_TIMEOUT", "1x", ConfigurationKey.electionTimeout, ConfigurationError.invalidDuration("1x", .unknownUnit("x"))),
        ("BALLOT_ID", "0", .id, .invalidNodeID("0")),
        ("BALLOT_PEERS", "2=127.0.0.1:7002;3=127.0.0.1:7003", .peers,
         .invalidPeer("2=127.0.0.1:7002;3=127.0.0.1:7003", .invalidAddress(.unbracketedIPv6))),
        ("BALLOT_PEERS", "2=127.0.0.1:7002,", .peers, .invalidPeer("", .missingSeparator)),
        ("BALLOT_EVENTS", "yes", .events, .invalidBoolean("yes")),
        ("BALLOT_LOG_LEVEL", "verbose", .logLevel,
         .unknownChoice("verbose", allowed: ["trace", "debug", "info", "notice", "warning", "error", "critical"])),
        ("BALLOT_LOG_FORMAT", "xml", .logFormat, .unknownChoice("xml", allowed: ["text", "json", "logfmt"])),
        ("BALLOT_MAX_FRAME_SIZE", "64k", .maxFrameSize, .invalidInteger("64k")),
    ])
    func errorsNameTheVariable(name: String, value: String, key: ConfigurationKey, error: ConfigurationError) {
        #expect(throws: ConfigurationError.invalidSetting(.environment(key), error)) {
            try NodeSettings(environment: [name: value])
        }
    }

    @Test func errorMessageStartsWithTheVariable() {
        let error = #expect(throws: ConfigurationError.self) {
            try NodeSettings(environment: ["BALLOT_ELECTION_TIMEOUT": "1x"])
        }
        #expect(error?.description == "BALLOT_ELECTION_TIMEOUT: \"1x\": unknown unit 'x'; use ms, s or m")
    }

    @Test func misspeltVariablesGetAWarningNamingTheLikelyKey() {
        let warnings = NodeSettings.environmentWarnings([
            "BALLOT_ELECTION_TIMOUT": "1s", "BALLOT_PEER": "2=h:1", "BALLOT_log_level": "debug",
            "BALLOT_DATADIR": "/x", "BALLOT_LISTEN": "127.0.0.1:7001",
            // Variables of the harness, the scripts and other tools: left alone.
            "BALLOT_BINARY": "/x", "BALLOT_PORTABLE": "1", "BALLOT_PROMETHEUS_PORT": "9090", "BALLOTD_BINARY": "/y",
            "BALLOT_BUILD_VERSION": "1", "BALLOT_LEADER": "1", "BALLOT_TERM": "7",
        ])
        #expect(warnings == [
            .misspeltVariable("BALLOT_DATADIR", suggestion: .dataDirectory),
            .misspeltVariable("BALLOT_ELECTION_TIMOUT", suggestion: .electionTimeout),
            .misspeltVariable("BALLOT_PEER", suggestion: .peers),
            .misspeltVariable("BALLOT_log_level", suggestion: .logLevel),
        ])
        #expect(warnings[1].description
            == "environment variable BALLOT_ELECTION_TIMOUT is not a Ballot setting and is ignored; did you mean BALLOT_ELECTION_TIMEOUT?")
    }
}

/// Precedence flag > environment > file > default, and where each value came from.
@Suite struct ConfigurationLayersTests {
    static let file = """
        id: 1
        listen: 127.0.0.1:7001
        data_dir: /tmp/ballot-layers
        election_timeout: 3s
        heartbeat_interval: 200ms
        cluster: from-file
        peers:
          2: 127.0.0.1:7002
        """

    func layers(flags: [(ConfigurationKey, String)] = [], environment: [String: String] = [:],
                program: NodeProgram = .ballotd) throws -> ConfigurationLayers {
        try withTemporaryDirectory { root in
            try writeFile(root + "/node.yaml", Self.file)
            var variables = environment
            if variables["BALLOT_CONFIG"] == nil { variables["BALLOT_CONFIG"] = root + "/node.yaml" }
            return try ConfigurationLayers(program: program, flags: flagSettings(flags), environment: variables)
        }
    }

    @Test func flagBeatsEnvironmentBeatsFileBeatsDefault() throws {
        let layers = try layers(
            flags: [(.electionTimeout, "1s")],
            environment: ["BALLOT_ELECTION_TIMEOUT": "2s", "BALLOT_HEARTBEAT_INTERVAL": "150ms"])
        let configuration = try layers.configuration()
        #expect(configuration.electionTimeout == .seconds(1))  // flag over environment and file
        #expect(configuration.heartbeatInterval == .milliseconds(150))  // environment over file
        #expect(configuration.cluster == (try ClusterName("from-file")))  // file over default
        #expect(configuration.maxFrameSize == NodeConfiguration.defaultMaxFrameSize)  // default
        #expect(layers.source(of: .electionTimeout) == .flag)
        #expect(layers.source(of: .heartbeatInterval) == .environment)
        #expect(layers.source(of: .cluster) == .file(path: layers.filePath))
        #expect(layers.source(of: .maxFrameSize) == .none)
        #expect(layers.source(of: .config) == .environment)
    }

    @Test func aHigherLayerReplacesThePeersWhole() throws {
        let fromEnvironment = try layers(environment: ["BALLOT_PEERS": "3=127.0.0.1:7003,4=127.0.0.1:7004"])
        #expect(try fromEnvironment.configuration().peers == [peer("3=127.0.0.1:7003"), peer("4=127.0.0.1:7004")])
        let fromFlags = try layers(flags: [(.peers, "5=127.0.0.1:7005")],
                                   environment: ["BALLOT_PEERS": "3=127.0.0.1:7003"])
        #expect(try fromFlags.configuration().peers == [peer("5=127.0.0.1:7005")])
    }

    @Test func theConfigFlagBeatsTheVariable() throws {
        try withTemporaryDirectory { root in
            try writeFile(root + "/a.yaml", "cluster: from-a\n")
            try writeFile(root + "/b.yaml", "cluster: from-b\n")
            let layers = try ConfigurationLayers(
                program: .ballotd, flags: flagSettings([(.config, root + "/a.yaml")]),
                environment: ["BALLOT_CONFIG": root + "/b.yaml"])
            #expect(layers.filePath == root + "/a.yaml")
            #expect(layers.merged.cluster == (try ClusterName("from-a")))
        }
    }

    @Test func theConfigFileCannotNameAnotherFile() {
        #expect(throws: ConfigurationError.notAFileSetting(.config, path: "n.yaml")) {
            try NodeSettings(yaml: "config: other.yaml", path: "n.yaml")
        }
        #expect(ConfigurationError.notAFileSetting(.config, path: "n.yaml").description
            == "config cannot be set in n.yaml; pass --config or set BALLOT_CONFIG")
    }

    @Test func ballotdRefusesBullyAndRingFromAnyLayer() throws {
        for (environment, origin) in [
            (["BALLOT_ALGORITHM": "bully"], SettingOrigin.environment(.algorithm)),
        ] {
            let layers = try layers(environment: environment)
            #expect(throws: ConfigurationError.algorithmNotOffered(.bully, origin: origin, program: "ballotd")) {
                try layers.configuration()
            }
        }
        try withTemporaryDirectory { root in
            try writeFile(root + "/ring.yaml", Self.file + "\nalgorithm: ring\n")
            let layers = try ConfigurationLayers(
                program: .ballotd, flags: NodeSettings(), environment: ["BALLOT_CONFIG": root + "/ring.yaml"])
            let error = #expect(throws: ConfigurationError.self) { try layers.configuration() }
            #expect(error == .algorithmNotOffered(.ring, origin: .file(.algorithm, path: root + "/ring.yaml"), program: "ballotd"))
            #expect(error?.description.hasPrefix("algorithm in \(root)/ring.yaml: ballotd runs Raft only") == true)
            #expect(error?.description.contains("ballot serve --algorithm ring") == true)
        }
        // Raft is fine, and `ballot serve` runs the others.
        #expect(try layers(environment: ["BALLOT_ALGORITHM": "raft"]).configuration().algorithm == .raft)
        #expect(try layers(flags: [(.algorithm, "bully")], program: .ballotServe).configuration().algorithm == .bully)
    }

    @Test func printoutShowsEveryValueAndItsOrigin() throws {
        let layers = try layers(
            flags: [(.electionTimeout, "1s"), (.http, "[::1]:9101")],
            environment: ["BALLOT_HEARTBEAT_INTERVAL": "150ms", "BALLOT_ELECTION_TIMOUT": "1s"])
        let (text, error) = layers.printout()
        #expect(error == nil)
        let lines = text.split(separator: "\n").map(String.init)
        func line(_ key: String) -> String? { lines.first { $0.hasPrefix(key + ":") } }
        #expect(line("election_timeout")?.hasSuffix("# --election-timeout") == true, "\(text)")
        #expect(line("heartbeat_interval")?.hasSuffix("# BALLOT_HEARTBEAT_INTERVAL") == true, "\(text)")
        #expect(line("cluster")?.hasSuffix("# \(layers.filePath!)") == true, "\(text)")
        #expect(line("max_frame_size")?.hasSuffix("# default") == true, "\(text)")
        #expect(line("http")?.hasPrefix("http: \"[::1]:9101\"") == true, "\(text)")
        #expect(line("events")?.hasPrefix("events: false") == true, "\(text)")
        #expect(lines.contains("# config: \(layers.filePath!)  (BALLOT_CONFIG)"), "\(text)")
        #expect(lines.contains { $0.hasPrefix("# warning: environment variable BALLOT_ELECTION_TIMOUT") }, "\(text)")
        #expect(!lines.contains { $0.hasPrefix("algorithm") }, "ballotd offers no choice of algorithm")
    }

    /// The printout is YAML that reads back to the effective settings.
    @Test func printoutReadsBackAsTheSameConfiguration() throws {
        let layers = try layers(
            flags: [(.http, "[::1]:9101"), (.cluster, "2024")], environment: ["BALLOT_LOG_FORMAT": "json"])
        let configuration = try layers.configuration()
        let (text, _) = layers.printout()
        let reread = try NodeSettings(yaml: text)
        #expect(try NodeConfiguration(reread) == configuration)
    }

    /// Peer trust settings from every layer: a repeated flag and a comma-separated variable for
    /// the accepted secrets; the printout names every file, lists them as YAML, and reads back.
    @Test func peerTrustSettingsComeFromEveryLayerAndPrintAsPaths() throws {
        let layers = try layers(
            flags: [(.peerTLSCertificate, "/etc/ballot/node.pem"), (.peerTLSKey, "/etc/ballot/node-key.pem"),
                    (.clusterSecretAlsoAccept, "/etc/ballot/a.secret"), (.clusterSecretAlsoAccept, "/etc/ballot/b.secret")],
            environment: ["BALLOT_PEER_TLS_CA": "/etc/ballot/ca.pem", "BALLOT_CLUSTER_SECRET_FILE": "/etc/ballot/c.secret",
                          "BALLOT_PEER_HANDSHAKE_TIMEOUT": "2s", "BALLOT_INSECURE_PEERS": "false"])
        let configuration = try layers.configuration()
        #expect(configuration.peerTrust.tls == PeerTrustConfiguration.TLSFiles(
            certificate: "/etc/ballot/node.pem", key: "/etc/ballot/node-key.pem", ca: "/etc/ballot/ca.pem"))
        #expect(configuration.peerTrust.clusterSecretFile == "/etc/ballot/c.secret")
        #expect(configuration.peerTrust.clusterSecretAlsoAccept == ["/etc/ballot/a.secret", "/etc/ballot/b.secret"])
        #expect(configuration.peerTrust.handshakeTimeout == .seconds(2))
        let (text, error) = layers.printout()
        #expect(error == nil)
        #expect(text.contains("peer_tls_ca: /etc/ballot/ca.pem") && text.contains("# BALLOT_PEER_TLS_CA"), "\(text)")
        #expect(text.contains("cluster_secret_also_accept:") && text.contains("  - /etc/ballot/b.secret"), "\(text)")
        #expect(try NodeConfiguration(NodeSettings(yaml: text)) == configuration)
        // The environment's list, and a list in a file.
        let fromEnvironment = try self.layers(environment: [
            "BALLOT_CLUSTER_SECRET_FILE": "/c", "BALLOT_CLUSTER_SECRET_ALSO_ACCEPT": "/a,/b"]).configuration()
        #expect(fromEnvironment.peerTrust.clusterSecretAlsoAccept == ["/a", "/b"])
        #expect(throws: ConfigurationError.self) {
            try self.layers(environment: ["BALLOT_CLUSTER_SECRET_FILE": "/c", "BALLOT_CLUSTER_SECRET_ALSO_ACCEPT": "/a,"])
        }
    }

    @Test func printoutStillShowsTheValuesWhenValidationFails() throws {
        let layers = try layers(flags: [(.heartbeatInterval, "1.1s")])
        let (text, error) = layers.printout()
        #expect(error == .heartbeatTooLong(heartbeat: .milliseconds(1100), electionTimeout: .seconds(3)))
        #expect(text.contains("heartbeat_interval: 1.1s"))
    }

    @Test func secretsAreRedactedButPathsAreNot() throws {
        // No shipped setting holds a secret itself: the peer TLS key, the cluster secret and the HTTP
        // token are given as file paths, which are printed. The printing rule is the descriptor's, so
        // a secret-marked descriptor proves it.
        let secret = SettingDescriptor(
            .cluster, \.cluster, .clusterName, "cluster name", help: "test", example: "x", secret: true)
        let path = ConfigurationKey.config.descriptor
        var settings = NodeSettings(cluster: try ClusterName("s3cr3t"))
        settings.config = "/etc/ballot/secret-holding-file"
        #expect(secret.printed(in: settings) == .literal("<redacted>"))
        #expect(path.printed(in: settings) == .text("/etc/ballot/secret-holding-file"))
        #expect(ConfigurationKey.allCases.filter { $0.descriptor.isSecret }.isEmpty)
    }

    @Test func yamlScalarsAreQuotedOnlyWhereNeeded() {
        #expect(ConfigurationLayers.yamlScalar("127.0.0.1:7001") == "127.0.0.1:7001")
        #expect(ConfigurationLayers.yamlScalar("1s") == "1s")
        #expect(ConfigurationLayers.yamlScalar("[::1]:7001") == "\"[::1]:7001\"")
        #expect(ConfigurationLayers.yamlScalar("true") == "\"true\"")
        #expect(ConfigurationLayers.yamlScalar("2024") == "\"2024\"")
        #expect(ConfigurationLayers.yamlScalar("a #b") == "\"a #b\"")
        #expect(ConfigurationLayers.yamlScalar("") == "\"\"")
        #expect(ConfigurationLayers.yamlScalar("ballot-{ordinal}.p:7001") == "ballot-{ordinal}.p:7001")
    }
}

/// Node identity from a StatefulSet pod's hostname, and peers from a template.
@Suite struct StatefulSetIdentityTests {
    @Test(arguments: [("ballot-0", UInt64(1)), ("ballot-2", 3), ("my-ballot-set-41", 42),
                      ("ballot-7.ballot-peers.prod.svc.cluster.local", 8)])
    func theOrdinalPlusOneIsTheNodeID(hostname: String, id: UInt64) throws {
        #expect(try StatefulSetIdentity.nodeID(fromHostname: hostname) == NodeID(id))
    }

    @Test(arguments: ["ballot", "ballot-", "-3", "ballot-01", "ballot-x", "ballot-+1", "", "ballot-18446744073709551615"])
    func hostnamesWithoutAnOrdinalAreRefused(hostname: String) {
        #expect(throws: ConfigurationError.hostnameWithoutOrdinal(hostname)) {
            try StatefulSetIdentity.nodeID(fromHostname: hostname)
        }
    }

    @Test func peersComeFromTheTemplateForEveryOtherMember() throws {
        let template = try PeerAddressTemplate(parsing: "ballot-{ordinal}.ballot-peers.prod.svc:7001")
        let peers = try StatefulSetIdentity.peers(members: 3, template: template, excluding: 2)
        #expect(peers == [peer("1=ballot-0.ballot-peers.prod.svc:7001"), peer("3=ballot-2.ballot-peers.prod.svc:7001")])
        let byID = try PeerAddressTemplate(parsing: "127.0.0.1:710{id}")
        #expect(try byID.address(of: 3) == address("127.0.0.1:7103"))
    }

    @Test(arguments: [
        ("ballot.peers:7001", PeerAddressTemplateProblem.noPlaceholder),
        ("ballot-{ordinal.peers:7001", .unclosedPlaceholder),
        ("ballot-{namespace}-{ordinal}:7001", .unknownPlaceholder("{namespace}")),
        ("ballot-{ordinal}", .notAnAddress("ballot-0", .missingPort)),
    ])
    func badTemplatesAreRefused(text: String, problem: PeerAddressTemplateProblem) {
        #expect(throws: ConfigurationError.invalidPeerAddressTemplate(text, problem)) {
            try PeerAddressTemplate(parsing: text)
        }
    }

    func settings(_ change: (inout NodeSettings) throws -> Void) rethrows -> NodeSettings {
        var settings = NodeSettings(listen: address("0.0.0.0:7001"), dataDirectory: "/var/lib/ballot")
        settings.clusterSecretFile = "/etc/ballot/peer/cluster.secret"  // off loopback, peers authenticate
        try change(&settings)
        return settings
    }

    @Test func aPodConfiguresItselfFromItsHostname() throws {
        let settings = try settings {
            $0.idFromHostname = true
            $0.members = 3
            $0.peerAddressTemplate = try PeerAddressTemplate(parsing: "ballot-{ordinal}.ballot-peers:7001")
        }
        let configuration = try NodeConfiguration(settings) { () throws(ConfigurationError) in "ballot-1" }
        #expect(configuration.id == 2)
        #expect(configuration.peers == [peer("1=ballot-0.ballot-peers:7001"), peer("3=ballot-2.ballot-peers:7001")])
    }

    @Test func contradictionsAndHalfSettingsAreRefused() throws {
        let template = try PeerAddressTemplate(parsing: "ballot-{ordinal}.p:7001")
        let pod = { () throws(ConfigurationError) -> String in "ballot-4" }
        #expect(throws: ConfigurationError.conflictingSettings(.id, .idFromHostname)) {
            try NodeConfiguration(settings { $0.id = 1; $0.idFromHostname = true }, hostname: pod)
        }
        #expect(throws: ConfigurationError.conflictingSettings(.peers, .members)) {
            try NodeConfiguration(settings {
                $0.id = 1; $0.members = 3; $0.peerAddressTemplate = template; $0.peers = [peer("2=h:1")]
            }, hostname: pod)
        }
        #expect(throws: ConfigurationError.incompleteSettings(given: .members, missing: .peerAddressTemplate)) {
            try NodeConfiguration(settings { $0.id = 1; $0.members = 3 }, hostname: pod)
        }
        #expect(throws: ConfigurationError.incompleteSettings(given: .peerAddressTemplate, missing: .members)) {
            try NodeConfiguration(settings { $0.id = 1; $0.peerAddressTemplate = template }, hostname: pod)
        }
        #expect(throws: ConfigurationError.nodeOutsideMembers(5, members: 3)) {
            try NodeConfiguration(settings {
                $0.idFromHostname = true; $0.members = 3; $0.peerAddressTemplate = template
            }, hostname: pod)
        }
        #expect(throws: ConfigurationError.memberCountOutOfRange(0)) {
            try NodeConfiguration(settings { $0.id = 1; $0.members = 0; $0.peerAddressTemplate = template }, hostname: pod)
        }
        #expect(throws: ConfigurationError.hostnameWithoutOrdinal("db-primary")) {
            try NodeConfiguration(settings { $0.idFromHostname = true }) { () throws(ConfigurationError) in "db-primary" }
        }
        // id_from_hostname: false is the same as not setting it.
        #expect(try NodeConfiguration(settings { $0.id = 1; $0.idFromHostname = false }, hostname: pod).id == 1)
    }

    @Test func theMachinesHostnameIsReadable() throws {
        #expect(try !HostName.current().isEmpty)
    }
}

/// The catalogue is the one description of each setting: names, examples and the docs table.
@Suite struct SettingCatalogueTests {
    @Test func everyExampleIsAValidValue() throws {
        for key in ConfigurationKey.allCases {
            var settings = NodeSettings()
            try settings.apply(flag: key, value: key.descriptor.example)
            #expect(settings.contains(key), "\(key)")
            var fromEnvironment = NodeSettings()
            try fromEnvironment.apply(environment: key, value: key.descriptor.example)
            #expect(fromEnvironment == settings, "\(key): the flag and the variable read the same text alike")
        }
    }

    @Test func flagsAreTheKeysWithDashes() {
        #expect(ConfigurationKey.dataDirectory.flag == "--data-dir")
        #expect(ConfigurationKey.idFromHostname.flag == "--id-from-hostname")
        #expect(ConfigurationKey.peers.flag == "--peer")
        #expect(Set(ConfigurationKey.allCases.map(\.flag)).count == ConfigurationKey.allCases.count)
    }

    /// docs/configuration.md's settings table is the catalogue's; when they differ, the test prints
    /// the table to paste.
    @Test func theDocsTableIsTheCatalogue() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/configuration.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let table = SettingCatalogueTable.markdown
        #expect(text.contains(table), "docs/configuration.md should contain this table:\n\(table)")
    }
}
