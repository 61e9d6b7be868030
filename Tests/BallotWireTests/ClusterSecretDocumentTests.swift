import BallotCore
import BallotWire
import Testing

/// Keeps the test vectors of `docs/protocol.md` §12.7 honest: the documented secret, nonces,
/// handshake, proof message and proofs must be exactly what the implementation produces.
@Suite("Protocol document: auth method 1 test vectors")
struct ClusterSecretDocumentTests {
    static let dialler: NodeID = 1
    static let acceptor: NodeID = 2
    static let diallerNonce = AuthNonce(bytes: Array(0x00...0x1F))!
    static let acceptorNonce = AuthNonce(bytes: Array(0x80...0x9F))!

    static func documented(_ name: String) throws -> [UInt8] {
        try #require(ProtocolDocumentTests.exampleBytes(name, in: try ProtocolDocumentTests.document()),
                     "example \(name) missing")
    }

    static func secrets() throws -> ClusterSecrets {
        ClusterSecrets(current: try ClusterSecret(bytes: try documented("test_secret")))
    }

    static func policy(_ node: NodeID) throws -> HandshakePolicy {
        HandshakePolicy(
            localNode: node, clusterName: Fixtures.prod, membership: Membership([1, 2, 3]), algorithm: .raft,
            clusterSecrets: try secrets())
    }

    @Test("the secret is the documented ASCII text")
    func secretText() throws {
        #expect(try Self.documented("test_secret") == Array("ballot protocol test secret 0001".utf8))
    }

    @Test("the dialler's handshake carries method 1 and its nonce, as documented")
    func handshake() throws {
        let session = PeerSession(policy: try Self.policy(Self.dialler), expectedPeer: Self.acceptor, nonce: Self.diallerNonce)
        let documented = try Self.documented("handshake_cluster_secret")
        #expect(FrameEncoder.encode(session.openingFrame) == documented)
        #expect(try FrameDecoder.decode(documented) == session.openingFrame)
    }

    @Test("the proof message M(1 → 2) is the documented 105 bytes")
    func proofMessage() throws {
        let dialler = try Self.policy(Self.dialler).handshake(nonce: Self.diallerNonce)
        let acceptor = try Self.policy(Self.acceptor).handshake(nonce: Self.acceptorNonce)
        let message = ClusterSecretProof.message(from: dialler, as: .dialler, to: acceptor)
        #expect(message.count == 105)
        #expect(message == (try Self.documented("auth_proof_message")))
    }

    /// Runs the documented exchange through two real sessions and compares the proof frames
    /// each sends with the documented ones; both then accept.
    @Test("both sessions send the documented proofs and accept each other")
    func proofsFromSessions() throws {
        var dialler = PeerSession(policy: try Self.policy(Self.dialler), expectedPeer: Self.acceptor, nonce: Self.diallerNonce)
        var acceptor = PeerSession(policy: try Self.policy(Self.acceptor), expectedPeer: nil, nonce: Self.acceptorNonce)

        let diallerProof = try dialler.receive(acceptor.openingFrame)
        let acceptorProof = try acceptor.receive(dialler.openingFrame)
        let expectedDiallerProof = try FrameDecoder.decode(try Self.documented("auth_proof"))
        let expectedAcceptorProof = try FrameDecoder.decode(try Self.documented("auth_proof_acceptor"))
        #expect(diallerProof == .send(expectedDiallerProof))
        #expect(acceptorProof == .send(expectedAcceptorProof))
        #expect(FrameEncoder.encode(expectedDiallerProof) == (try Self.documented("auth_proof")))

        #expect(try acceptor.receive(expectedDiallerProof) == .send(.handshakeReply(.accepted)))
        #expect(try dialler.receive(expectedAcceptorProof) == .send(.handshakeReply(.accepted)))
    }

    @Test("the type-code table lists auth_proof and the code kept for a challenge")
    func typeTable() throws {
        let document = try ProtocolDocumentTests.document()
        #expect(FrameType.authProof.rawValue == 0x04)
        #expect(document.contains("| 0x03        | reserved: an auth challenge frame"))
        #expect(FrameType(rawValue: FrameType.reservedAuthChallenge) == nil)
    }
}
