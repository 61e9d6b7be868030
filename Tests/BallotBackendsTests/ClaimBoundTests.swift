import Foundation
@testable import BallotBackends
import BallotRuntime
import BallotZooKeeper
import Testing

/// The claim inequality and the configurations that leave room for it.
@Suite struct ClaimBoundTests {
    @Test func theDeadlineIsTheRenewalSendPlusValidityTimesOneMinusRhoMinusTheMargin() {
        let bound = ClaimBound(validity: .seconds(5), margin: .milliseconds(100))
        let sent = MonotonicInstant(nanoseconds: 1_000_000_000)
        #expect(bound.window == .milliseconds(4_650))
        #expect(bound.deadline(renewalSentAt: sent) == sent + .milliseconds(4_650))
        // The service cannot re-grant before sent + validity on its clock; on ours, even if its clock runs
        // ρ fast, that is after sent + validity × (1 − ρ): the claim ends before, with the margin to spare.
        let earliestRegrant = sent + .seconds(5) * (1 - ClaimBound.clockRateBound)
        #expect(bound.deadline(renewalSentAt: sent) + bound.margin == earliestRegrant)
    }

    @Test func zooKeeperMarginCoversTheFollowerLag() throws {
        let configuration = try ZooKeeperBackendConfiguration(servers: [ZooKeeperServerAddress(host: "127.0.0.1", port: 2181)])
        let bound = configuration.bound(for: .seconds(4))
        #expect(bound.margin == .milliseconds(2_200))
        #expect(bound.window == .milliseconds(1_600))
        #expect(bound.window > configuration.renewalInterval(for: .seconds(4)))
    }

    @Test func configurationsWithoutRoomToClaimAreRefused() throws {
        let servers = [ZooKeeperServerAddress(host: "127.0.0.1", port: 2181)]
        #expect(throws: ZooKeeperBackendConfigurationError.noRoomToClaim(sessionTimeout: .seconds(4), followerLag: .seconds(3))) {
            try ZooKeeperBackendConfiguration(servers: servers, followerLag: .seconds(3))
        }
        #expect(throws: Never.self) { try ZooKeeperBackendConfiguration(servers: servers, sessionTimeout: .seconds(2), followerLag: .zero) }
        #expect(throws: ZooKeeperBackendConfigurationError.noServers) { try ZooKeeperBackendConfiguration(servers: []) }
        let endpoint = [EtcdEndpoint(usesTLS: false, host: "127.0.0.1", port: 2379)]
        #expect(throws: EtcdConfigurationError.leaseTTLNotWholeSeconds(.milliseconds(1500))) {
            try EtcdBackendConfiguration(endpoints: endpoint, leaseTTL: .milliseconds(1500))
        }
        #expect(throws: EtcdConfigurationError.leaseTTLOutOfRange(.zero)) { try EtcdBackendConfiguration(endpoints: endpoint, leaseTTL: .zero) }
        #expect(throws: EtcdConfigurationError.tlsFilesWithoutHTTPS) {
            try EtcdBackendConfiguration(endpoints: endpoint, tls: EtcdTLSFiles(caFile: "/ca.pem"))
        }
        #expect(throws: EtcdConfigurationError.certificateWithoutKey) {
            try EtcdBackendConfiguration(endpoints: [EtcdEndpoint(usesTLS: true, host: "a", port: 1)], tls: EtcdTLSFiles(certificateFile: "/c.pem"))
        }
        #expect(throws: EtcdConfigurationError.noRoomToClaim(ttl: .seconds(1), margin: .milliseconds(700))) {
            try EtcdBackendConfiguration(endpoints: endpoint, leaseTTL: .seconds(1), claimMargin: .milliseconds(700))
        }
    }

    @Test func endpointsAndElectionNames() throws {
        #expect(try EtcdEndpoint.parseList("http://127.0.0.1:2379, https://etcd-1:2379/") == [
            EtcdEndpoint(usesTLS: false, host: "127.0.0.1", port: 2379), EtcdEndpoint(usesTLS: true, host: "etcd-1", port: 2379),
        ])
        #expect(try EtcdEndpoint(parsing: "http://[::1]:2379").description == "http://[::1]:2379")
        for bad in ["127.0.0.1:2379", "http://a:2379/v3", "http://u@a:1", "http://a", "http://a:0", "http://a:1,,"] {
            #expect(throws: EtcdConfigurationError.self, "\(bad)") { try EtcdEndpoint.parseList(bad) }
        }
        #expect(try ElectionName("orders-2.eu_west").zooKeeperPath == "/ballot/elections/orders-2.eu_west")
        #expect(try ElectionName("x").etcdPrefix == "/ballot/elections/x/")
        #expect(throws: ElectionNameProblem.empty) { try ElectionName("") }
        #expect(throws: ElectionNameProblem.dotName) { try ElectionName("..") }
        #expect(throws: ElectionNameProblem.invalidCharacter("/")) { try ElectionName("a/b") }
        #expect(throws: ElectionNameProblem.tooLong(129)) { try ElectionName(String(repeating: "a", count: 129)) }
    }

    @Test func credentialsComeFromAFileAndNeverPrintThePassword() throws {
        let path = "/tmp/ballot-credentials-\(UInt32.random(in: 0...UInt32.max))"
        try "root:s3cret:with:colons\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let credentials = try EtcdCredentials(contentsOfFile: path)
        #expect(credentials.user == "root" && credentials.password == "s3cret:with:colons")
        #expect(!"\(credentials)".contains("s3cret"))
        try "no-colon\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: EtcdConfigurationError.self) { try EtcdCredentials(contentsOfFile: path) }
        #expect(throws: EtcdConfigurationError.self) { try EtcdCredentials(contentsOfFile: path + "-missing") }
    }
}
