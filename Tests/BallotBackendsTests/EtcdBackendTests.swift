import BallotBackends
import BallotCore
import BallotHarness
import BallotRuntime
import Foundation
import Testing

/// The etcd backend in this process against one real etcd member (Debian's `etcd-server`).
@Suite("etcd backend against a real etcd", .etcd(members: 1), .serialized)
struct EtcdBackendTests {
    static func start(_ nodes: ClosedRange<UInt64>, election: ElectionName, ttl: Duration = .seconds(2),
                      endpoints: String? = nil, tls: EtcdTLSFiles = EtcdTLSFiles(), credentials: String? = nil) throws -> [RunningBackend] {
        let cluster = try #require(Fixtures.etcd)
        let configuration = try EtcdBackendConfiguration(
            endpoints: try EtcdEndpoint.parseList(endpoints ?? cluster.endpoints), election: election, leaseTTL: ttl, tls: tls,
            credentialsFile: credentials)
        return try nodes.map { id in
            let node = NodeID(id)!
            let observer = CountingObserver()
            let backend = try EtcdBackend(configuration: configuration, node: node, view: LeadershipView(node: node),
                                          observer: observer, tokens: nil, recoveredToken: .zero, logger: testLogger)
            return RunningBackend(backend, observer: observer)
        }
    }

    /// The candidacy keys under an election, oldest first, as etcd itself reports them.
    static func keys(_ election: ElectionName) async throws -> [(key: String, createRevision: UInt64, value: String)] {
        let cluster = try #require(Fixtures.etcd)
        let result = await cluster.etcdctl(["get", "--prefix", election.etcdPrefix, "--sort-by", "CREATE", "--write-out", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any], "\(result.error)")
        let kvs = object["kvs"] as? [[String: Any]] ?? []
        return kvs.map { kv in
            let key = String(decoding: Data(base64Encoded: kv["key"] as? String ?? "") ?? Data(), as: UTF8.self)
            let value = String(decoding: Data(base64Encoded: kv["value"] as? String ?? "") ?? Data(), as: UTF8.self)
            return (key, (kv["create_revision"] as? NSNumber)?.uint64Value ?? 0, value)
        }
    }

    @Test("Three candidates elect one leader; every node names it, with its key's creation revision as the term")
    func electOne() async throws {
        let election = try freshElection("one")
        let nodes = try Self.start(1...3, election: election)
        defer { Task { for node in nodes { await node.stop() } } }
        #expect(await eventually {
            guard let leader = soleLeader(nodes) else { return false }
            return nodes.allSatisfy { $0.view.current.leader == LeaderInfo(id: leader.node, term: leader.view.current.term) }
        })
        let leader = try #require(soleLeader(nodes))
        let keys = try await Self.keys(election)
        #expect(keys.count == 3)
        #expect(keys.first?.value == "\(leader.node)")
        #expect(keys.first?.createRevision == leader.view.current.term.rawValue)
        #expect(leader.observer.actions.contains(.campaignFinished(.won, ticks: 0)))
        for node in nodes where node !== leader {
            #expect(node.observer.actions.contains(.campaignFinished(.lost, ticks: 0)))
        }
        for node in nodes { await node.stop() }
    }

    @Test("Resigning stops the claim first, deletes the key and revokes the lease: the next candidate leads without a TTL")
    func resign() async throws {
        let election = try freshElection("resign")
        let nodes = try Self.start(1...2, election: election, ttl: .seconds(30))
        let log = LeaseLog()
        for node in nodes { log.follow(node.view) }
        #expect(await eventually { soleLeader(nodes) != nil })
        let leader = try #require(soleLeader(nodes))
        let other = try #require(nodes.first { $0 !== leader })
        let oldTerm = leader.view.current.term
        await leader.stop(resign: true)
        #expect(!leader.isLeader())
        #expect(try await Self.keys(election).map(\.value) == ["\(other.node)"], "the resigned key is gone at once")
        // With a 30 s TTL, only the resignation can make the other lead this soon.
        #expect(await eventually(within: .seconds(10)) { other.isLeader() })
        #expect(other.view.current.term > oldTerm)
        #expect(log.overlaps(endingAt: SystemMonotonicClock.now).isEmpty)
        await other.stop()
    }

    @Test("A lease revoked under the leader ends its claim; it makes a new candidacy behind the next leader")
    func revokedLease() async throws {
        let election = try freshElection("revoke")
        let nodes = try Self.start(1...2, election: election, ttl: .seconds(30))
        #expect(await eventually { soleLeader(nodes) != nil })
        let leader = try #require(soleLeader(nodes))
        let other = try #require(nodes.first { $0 !== leader })
        let status = await leader.backend.status()
        let lease = try #require(status.session)
        let oldToken = try #require(status.candidacyToken)
        let cluster = try #require(Fixtures.etcd)
        let revoked = await cluster.etcdctl(["lease", "revoke", lease])
        #expect(revoked.succeeded, "\(revoked.error)")
        #expect(await eventually { other.isLeader() && !leader.isLeader() })
        #expect(await eventually { (await leader.backend.status().candidacyToken ?? 0) > oldToken }, "a new candidacy")
        #expect(leader.view.current.leader?.id == other.node)
        for node in nodes { await node.stop() }
    }

    @Test("A candidacy whose value names no node is counted as malformed, and nobody behind it claims")
    func malformedCandidacy() async throws {
        let election = try freshElection("garbage")
        let cluster = try #require(Fixtures.etcd)
        let put = await cluster.etcdctl(["put", election.etcdPrefix + "0000", "not a node id"])
        #expect(put.succeeded, "\(put.error)")
        let nodes = try Self.start(1...2, election: election)
        #expect(await eventually { nodes.allSatisfy { $0.observer.failures.contains(.malformed) } })
        try await Task.sleep(for: .milliseconds(500))
        #expect(nodes.allSatisfy { !$0.isLeader() && $0.view.current.leader == nil })
        await cluster.etcdctl(["del", election.etcdPrefix + "0000"])
        #expect(await eventually { soleLeader(nodes) != nil }, "with it gone, the oldest real candidacy leads")
        for node in nodes { await node.stop() }
    }

    @Test("No endpoint answers: the backend keeps trying, counts the failures and never claims")
    func unreachable() async throws {
        let port = LoopbackPorts.consecutiveFree(1, from: Int.random(in: 20_000...50_000))
        let nodes = try Self.start(1...1, election: try freshElection("nowhere"), endpoints: "http://127.0.0.1:\(port)")
        #expect(await eventually { nodes[0].observer.failures.contains(.connectFailed) })
        #expect(!nodes[0].isLeader())
        await nodes[0].stop()
    }
}

/// TLS with client certificates, and etcd's authentication, against a member started for it.
@Suite("etcd backend over TLS with credentials", .serialized)
struct EtcdSecureTests {
    @Test("https endpoint, client certificate and a credentials file: the backend leads; a wrong password never does")
    func tlsAndAuth() async throws {
        let certificates = try await ThrowawayCertificates.make()
        defer { certificates.remove() }
        let directory = certificates.directory
        var settings = EtcdCluster.Settings()
        settings.tls = EtcdCluster.TLSFiles(certificate: certificates.serverCertificate, key: certificates.serverKey,
                                            clientCA: certificates.ca)
        try await EtcdCluster.whileRunning(members: 1, settings: settings) { cluster in
            for step in [["user", "add", "root", "--new-user-password", "rootpw"], ["user", "add", "ballot", "--new-user-password", "s3cret"],
                         ["role", "add", "elector"], ["role", "grant-permission", "elector", "--prefix=true", "readwrite", "/ballot/"],
                         ["user", "grant-role", "ballot", "elector"], ["auth", "enable"]] {
                let result = await cluster.etcdctl(step)
                #expect(result.succeeded, "etcdctl \(step): \(result.error)")
            }
            let good = directory + "/good"
            let bad = directory + "/bad"
            try "ballot:s3cret\n".write(toFile: good, atomically: true, encoding: .utf8)
            try "ballot:wrong\n".write(toFile: bad, atomically: true, encoding: .utf8)
            let tls = EtcdTLSFiles(caFile: certificates.ca, certificateFile: certificates.anonymousClientCertificate,
                                   keyFile: certificates.anonymousClientKey)
            try await Fixtures.$etcd.withValue(cluster) {
                let election = try freshElection("secure")
                let nodes = try EtcdBackendTests.start(1...1, election: election, endpoints: cluster.endpoints, tls: tls, credentials: good)
                let refused = try EtcdBackendTests.start(2...2, election: election, endpoints: cluster.endpoints, tls: tls, credentials: bad)
                #expect(await eventually { nodes[0].isLeader() }, "failures: \(nodes[0].observer.failures)")
                #expect(await eventually { refused[0].observer.failures.contains(.unauthenticated) }, "failures: \(refused[0].observer.failures)")
                #expect(!refused[0].isLeader())
                let status = await nodes[0].backend.status()
                #expect(!"\(status)".contains("s3cret"))
                for node in nodes + refused { await node.stop() }
                // Without the CA the member's certificate is not trusted.
                let untrusting = try EtcdBackendTests.start(3...3, election: election, endpoints: cluster.endpoints,
                                                            tls: EtcdTLSFiles(certificateFile: certificates.anonymousClientCertificate,
                                                                              keyFile: certificates.anonymousClientKey),
                                                            credentials: good)
                #expect(await eventually { untrusting[0].observer.failures.contains(.unauthenticated) })
                #expect(!untrusting[0].isLeader())
                await untrusting[0].stop()
            }
        }
    }
}
