import BallotCore
import BallotWire
import Testing

@Suite("Peer identity in a certificate, and the handshake that must match it")
struct PeerIdentityTests {
    static let members = Membership([1, 2, 3])

    static func tlsPolicy(node: NodeID, secret: ClusterSecrets? = nil) -> HandshakePolicy {
        let policy = secret.map {
            HandshakePolicy(localNode: node, clusterName: Fixtures.prod, membership: members, algorithm: .raft,
                            clusterSecrets: $0)
        } ?? HandshakePolicy(localNode: node, clusterName: Fixtures.prod, membership: members, algorithm: .raft)
        return policy.requiringCertificates()
    }

    static func identity(_ cluster: String, _ node: NodeID) -> PeerIdentity {
        PeerIdentity(clusterName: Fixtures.clusterName(cluster), node: node)
    }

    @Test("ballot://<cluster>/<id> has one spelling")
    func parsesTheOneSpelling() throws {
        let identity = try PeerIdentity(uri: "ballot://prod-a/3")
        #expect(identity == Self.identity("prod-a", 3))
        #expect(identity.uri == "ballot://prod-a/3")
        for bad in ["ballot://prod/03", "ballot://prod/0", "ballot://prod/", "ballot:///3", "ballot://prod/3/x",
                    "ballot://pr od/3", "Ballot://prod/3", "ballot://prod/3?x", "ballot://prod/+3", "ballot://prod/18446744073709551616",
                    "spiffe://prod/3", "ballot:prod/3"] {
            #expect(throws: PeerIdentityProblem.self, "\(bad) must be refused") { try PeerIdentity(uri: bad) }
        }
    }

    @Test("a certificate names exactly one node; other URIs are ignored")
    func exactlyOneNode() throws {
        #expect(try PeerIdentity.fromCertificate(uris: ["https://example.org", "ballot://prod/2"]) == Self.identity("prod", 2))
        #expect(throws: PeerIdentityProblem.missing(uris: ["https://example.org"])) {
            try PeerIdentity.fromCertificate(uris: ["https://example.org"])
        }
        #expect(throws: PeerIdentityProblem.ambiguous(["ballot://prod/2", "ballot://prod/3"])) {
            try PeerIdentity.fromCertificate(uris: ["ballot://prod/2", "ballot://prod/3"])
        }
    }

    @Test("under mutual TLS a handshake before a verified certificate is refused with auth")
    func uncertifiedHandshakeRefused() throws {
        var acceptor = PeerSession(policy: Self.tlsPolicy(node: 1), expectedPeer: nil)
        let hello = Handshake(nodeID: 2, clusterName: Fixtures.prod, algorithm: .raft)
        #expect(throws: WireError.uncertifiedPeer(claimedNode: 2)) { try acceptor.receive(.handshake(hello)) }
        #expect(WireError.uncertifiedPeer(claimedNode: 2).metricReason == "auth")
        #expect(WireError.uncertifiedPeer(claimedNode: 2).rejection?.reason == .auth)
    }

    @Test("the handshake must claim the certificate's node and cluster, on both sides", arguments: [
        (Handshake(nodeID: 3, clusterName: Fixtures.prod, algorithm: .raft), PeerIdentityTests.identity("prod", 2)),
        (Handshake(nodeID: 2, clusterName: Fixtures.prod, algorithm: .raft), PeerIdentityTests.identity("other", 2)),
        (Handshake(nodeID: 2, clusterName: Fixtures.clusterName("other"), algorithm: .raft), PeerIdentityTests.identity("prod", 2)),
    ])
    func mismatchRefused(handshake: Handshake, certificate: PeerIdentity) throws {
        let expected = WireError.certificateIdentityMismatch(
            certificate: certificate, claimedCluster: handshake.clusterName.rawValue, claimedNode: handshake.nodeID)
        var acceptor = PeerSession(policy: Self.tlsPolicy(node: 1), expectedPeer: nil)
        let certified = acceptor.peerCertified(as: certificate)
        #expect(certified)
        #expect(throws: expected) { try acceptor.receive(.handshake(handshake)) }
        #expect(expected.metricReason == "auth")
        // The dialling side: it dialled node 2 and the certificate it got says `certificate`.
        var dialler = PeerSession(policy: Self.tlsPolicy(node: 1), expectedPeer: 2)
        dialler.peerCertified(as: certificate)
        #expect(throws: expected) { try dialler.receive(.handshake(handshake)) }
    }

    @Test("a matching certificate and handshake establish, and only then deliver")
    func matchingEstablishes() throws {
        var acceptor = PeerSession(policy: Self.tlsPolicy(node: 1), expectedPeer: nil)
        var dialler = PeerSession(policy: Self.tlsPolicy(node: 2), expectedPeer: 1)
        acceptor.peerCertified(as: Self.identity("prod", 2))
        dialler.peerCertified(as: Self.identity("prod", 1))
        let step = try acceptor.receive(dialler.openingFrame)
        #expect(step == .send(.handshakeReply(.accepted)))
        _ = try dialler.receive(acceptor.openingFrame)
        #expect(try acceptor.receive(.handshakeReply(.accepted)) == .established(peer: 2))
        let vote = Message.voteRequest(VoteRequest(term: 4, lastLog: LogPosition(index: 2, term: 3)))
        #expect(try acceptor.receive(.message(vote)) == .deliver(vote, from: 2))
        // Too late to change who the peer is.
        let replaced = acceptor.peerCertified(as: Self.identity("prod", 3))
        #expect(!replaced)
    }

    @Test("mutual TLS and the cluster secret together: both are checked")
    func bothChecked() throws {
        let secret = try ClusterSecrets(current: ClusterSecret(bytes: Array(repeating: 7, count: 32)))
        let other = try ClusterSecrets(current: ClusterSecret(bytes: Array(repeating: 8, count: 32)))
        // Certificate right, secret wrong: refused at the proof.
        var acceptor = PeerSession(policy: Self.tlsPolicy(node: 1, secret: secret), expectedPeer: nil)
        var dialler = PeerSession(policy: Self.tlsPolicy(node: 2, secret: other), expectedPeer: 1)
        acceptor.peerCertified(as: Self.identity("prod", 2))
        dialler.peerCertified(as: Self.identity("prod", 1))
        guard case .send(let acceptorProof) = try acceptor.receive(dialler.openingFrame),
              case .send(let diallerProof) = try dialler.receive(acceptor.openingFrame)
        else { Issue.record("no proofs exchanged"); return }
        #expect(throws: WireError.wrongAuthProof(peer: 2)) { try acceptor.receive(diallerProof) }
        #expect(throws: WireError.wrongAuthProof(peer: 1)) { try dialler.receive(acceptorProof) }
        // Secret right, no certificate: refused before the proof exchange starts.
        var uncertified = PeerSession(policy: Self.tlsPolicy(node: 1, secret: secret), expectedPeer: nil)
        let peer = PeerSession(policy: Self.tlsPolicy(node: 2, secret: secret), expectedPeer: 1)
        #expect(throws: WireError.uncertifiedPeer(claimedNode: 2)) { try uncertified.receive(peer.openingFrame) }
    }
}
