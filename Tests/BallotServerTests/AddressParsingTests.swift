import BallotClient
import BallotCore
import Testing
@testable import BallotServer

@Suite struct SocketAddressSpecTests {
    @Test(arguments: [
        ("127.0.0.1:7001", SocketAddressSpec.Host.ipv4("127.0.0.1"), 7001, "127.0.0.1:7001"),
        ("0.0.0.0:1", .ipv4("0.0.0.0"), 1, "0.0.0.0:1"),
        ("localhost:7001", .name("localhost"), 7001, "localhost:7001"),
        ("LocalHost:80", .name("localhost"), 80, "localhost:80"),
        ("node-2.example.com:65535", .name("node-2.example.com"), 65535, "node-2.example.com:65535"),
        ("[::1]:7001", .ipv6("::1"), 7001, "[::1]:7001"),
        ("[0:0:0:0:0:0:0:1]:7001", .ipv6("::1"), 7001, "[::1]:7001"),
        ("[FE80::0:1]:9", .ipv6("fe80::1"), 9, "[fe80::1]:9"),
    ])
    func parsesValidAddresses(text: String, host: SocketAddressSpec.Host, port: Int, canonical: String) throws {
        let address = try SocketAddressSpec(parsing: text)
        #expect(address.host == host)
        #expect(address.port == port)
        #expect(address.description == canonical)
        #expect(try SocketAddressSpec(parsing: canonical) == address)
    }

    @Test(arguments: [
        ("", AddressProblem.empty),
        ("127.0.0.1", .missingPort),
        ("127.0.0.1:", .missingPort),
        ("localhost", .missingPort),
        (":7001", .emptyHost),
        ("127.0.0.1:0", .invalidPort("0")),
        ("127.0.0.1:65536", .invalidPort("65536")),
        ("127.0.0.1:700001", .invalidPort("700001")),
        ("127.0.0.1:-1", .invalidPort("-1")),
        ("127.0.0.1:07001", .invalidPort("07001")),
        ("127.0.0.1:http", .invalidPort("http")),
        ("::1:7001", .unbracketedIPv6),
        ("[::1]", .missingPort),
        ("[::1]7001", .missingPort),
        ("[::1]:", .missingPort),
        ("[::g]:7001", .invalidIPv6("::g")),
        ("[::1:7001", .invalidIPv6("::1:7001")),
        ("[127.0.0.1]:7001", .invalidIPv6("127.0.0.1")),
        ("[fe80::1%eth0]:7001", .invalidIPv6("fe80::1%eth0")),
        ("256.0.0.1:7001", .invalidIPv4("256.0.0.1")),
        ("1.2.3:7001", .invalidIPv4("1.2.3")),
        ("01.2.3.4:7001", .invalidIPv4("01.2.3.4")),
        ("bad_host:7001", .invalidHostname("bad_host")),
        ("-bad:7001", .invalidHostname("-bad")),
        ("a..b:7001", .invalidHostname("a..b")),
        ("\(String(repeating: "a", count: 64)).com:1", .invalidHostname("\(String(repeating: "a", count: 64)).com")),
    ])
    func rejectsInvalidAddresses(text: String, problem: AddressProblem) {
        #expect(throws: ConfigurationError.invalidAddress(text, problem)) {
            try SocketAddressSpec(parsing: text)
        }
    }

    @Test func buildsFromHostAndPort() throws {
        #expect(try SocketAddressSpec(host: "::1", port: 7001) == SocketAddressSpec(parsing: "[::1]:7001"))
        #expect(try SocketAddressSpec(host: "127.0.0.1", port: 7001).hostString == "127.0.0.1")
        #expect(throws: ConfigurationError.invalidAddress("127.0.0.1:0", .invalidPort("0"))) {
            try SocketAddressSpec(host: "127.0.0.1", port: 0)
        }
        #expect(throws: ConfigurationError.invalidAddress("999.1.1.1:80", .invalidIPv4("999.1.1.1"))) {
            try SocketAddressSpec(host: "999.1.1.1", port: 80)
        }
    }

    @Test func hostStringHasNoBrackets() throws {
        #expect(try SocketAddressSpec(parsing: "[::1]:7001").hostString == "::1")
    }

    @Test func wildcardAddresses() throws {
        #expect(try SocketAddressSpec(parsing: "0.0.0.0:7001").isWildcard)
        #expect(try SocketAddressSpec(parsing: "[::]:7001").isWildcard)
        #expect(try !SocketAddressSpec(parsing: "127.0.0.1:7001").isWildcard)
    }

    @Test(arguments: [
        ("127.0.0.1:7001", "127.0.0.1:7001", true),
        ("localhost:7001", "127.0.0.1:7001", true),
        ("localhost:7001", "[::1]:7001", true),
        ("0.0.0.0:7001", "127.0.0.1:7001", true),
        ("[::]:7001", "0.0.0.0:7001", true),
        ("127.0.0.1:7001", "127.0.0.1:7002", false),
        ("10.0.0.1:7001", "10.0.0.2:7001", false),
        ("0.0.0.0:7001", "10.0.0.2:7001", false),
        ("127.0.0.2:7001", "127.0.0.1:7001", false),
    ])
    func overlapDetection(first: String, second: String, overlaps: Bool) throws {
        let a = try SocketAddressSpec(parsing: first)
        let b = try SocketAddressSpec(parsing: second)
        #expect(a.overlaps(b) == overlaps)
        #expect(b.overlaps(a) == overlaps)
    }
}

@Suite struct PeerAndNameParsingTests {
    @Test func parsesAPeer() throws {
        let peer = try PeerAddress(parsing: "2=127.0.0.1:7002")
        #expect(peer.id == 2)
        #expect(peer.address == (try SocketAddressSpec(parsing: "127.0.0.1:7002")))
        #expect(peer.description == "2=127.0.0.1:7002")
        #expect(try PeerAddress(parsing: "12=[::1]:7012").address.host == .ipv6("::1"))
    }

    @Test(arguments: [
        ("2:127.0.0.1:7002", PeerProblem.missingSeparator),
        ("127.0.0.1:7002", .missingSeparator),
        ("0=127.0.0.1:7002", .invalidNodeID("0")),
        ("x=127.0.0.1:7002", .invalidNodeID("x")),
        ("=127.0.0.1:7002", .invalidNodeID("")),
        ("02=127.0.0.1:7002", .invalidNodeID("02")),
        ("2=127.0.0.1", .invalidAddress(.missingPort)),
        ("2=", .invalidAddress(.empty)),
        ("2=127.0.0.1:99999", .invalidAddress(.invalidPort("99999"))),
    ])
    func rejectsInvalidPeers(text: String, problem: PeerProblem) {
        #expect(throws: ConfigurationError.invalidPeer(text, problem)) { try PeerAddress(parsing: text) }
    }

    @Test(arguments: [("1", UInt64(1)), ("42", 42), ("18446744073709551615", .max)])
    func parsesNodeIDs(text: String, value: UInt64) throws {
        #expect(try NodeID(parsing: text).rawValue == value)
    }

    @Test(arguments: ["0", "-1", "+1", "01", "abc", "", " 1", "1.0", "18446744073709551616"])
    func rejectsInvalidNodeIDs(text: String) {
        #expect(throws: ConfigurationError.invalidNodeID(text)) { try NodeID(parsing: text) }
    }

    @Test(arguments: ["ballot", "prod-eu_1.a", "A", String(repeating: "x", count: 255)])
    func acceptsValidClusterNames(name: String) throws {
        #expect(try ClusterName(name).rawValue == name)
    }

    @Test(arguments: [
        ("", ClusterNameProblem.empty),
        (String(repeating: "x", count: 256), .tooLong(bytes: 256)),
        (String(repeating: "é", count: 200), .tooLong(bytes: 400)),
        ("a b", .invalidCharacter(" ")),
        ("café", .invalidCharacter("é")),
        ("prod/eu", .invalidCharacter("/")),
    ])
    func rejectsInvalidClusterNames(name: String, problem: ClusterNameProblem) {
        #expect(throws: ConfigurationError.invalidClusterName(name, problem)) { try ClusterName(configured: name) }
    }

    @Test func defaultClusterNameIsBallot() {
        #expect(ClusterName.default.rawValue == "ballot")
    }

    @Test func parsesAlgorithms() throws {
        #expect(try ElectionAlgorithmKind(parsing: "raft") == .raft)
        #expect(try ElectionAlgorithmKind(parsing: "bully") == .bully)
        #expect(try ElectionAlgorithmKind(parsing: "ring") == .ring)
        #expect(throws: ConfigurationError.unknownAlgorithm("Raft")) { try ElectionAlgorithmKind(parsing: "Raft") }
        #expect(throws: ConfigurationError.unknownAlgorithm("paxos")) { try ElectionAlgorithmKind(parsing: "paxos") }
        #expect(ConfigurationError.unknownAlgorithm("paxos").description
            == "unknown election algorithm \"paxos\"; use raft, bully, ring")
    }
}
