import BallotCore
import BallotWire
import Testing

@Suite("Cluster secret values, nonces and proofs")
struct ClusterSecretTests {
    /// Bytes that are easy to spot in any rendering: "SECRET" in ASCII, and a recognisable pattern.
    static let bytes: [UInt8] = Array("SECRET-do-not-print-0123456789ab".utf8)

    @Test("a secret never shows its bytes: description, debugDescription, interpolation, dump, mirror")
    func neverPrints() throws {
        let secret = try ClusterSecret(bytes: Self.bytes)
        var dumped = ""
        dump(secret, to: &dumped)
        var dumpedSet = ""
        dump(ClusterSecrets(current: secret, alsoAccepted: [try ClusterSecret(bytes: Self.bytes.reversed())]),
             to: &dumpedSet)
        let renderings = [
            secret.description, secret.debugDescription, "\(secret)", String(describing: secret),
            String(reflecting: secret), dumped, dumpedSet, "\(ClusterSecrets(current: secret))",
            String(reflecting: ClusterSecrets(current: secret)),
        ]
        for text in renderings {
            #expect(!text.contains("SECRET"), "\(text)")
            #expect(!text.contains("83"), "\(text)")  // 'S' as a decimal byte
            #expect(!text.contains("53"), "\(text)")  // 'S' in hex
            #expect(!text.contains("[UInt8]"), "\(text)")
        }
        #expect(secret.description == "ClusterSecret(redacted)")
        #expect(Mirror(reflecting: secret).children.isEmpty)
    }

    @Test("a policy or session holding the secret does not show it either")
    func containersDoNotShowIt() throws {
        let secret = try ClusterSecret(bytes: Self.bytes)
        let policy = HandshakePolicy(
            localNode: 1, clusterName: Fixtures.prod, membership: Membership([1, 2]), algorithm: .raft,
            clusterSecrets: ClusterSecrets(current: secret))
        let session = PeerSession(policy: policy, expectedPeer: 2)
        var dumped = ""
        dump(session, to: &dumped)
        for text in ["\(policy)", String(reflecting: policy), "\(session)", String(reflecting: session), dumped] {
            #expect(!text.contains("SECRET"), "\(text)")
            #expect(text.contains("redacted"), "\(text)")
        }
    }

    @Test("fewer than 32 bytes are refused with what to do; more than 1024 too", arguments: [0, 1, 31, 1025, 65_536])
    func lengthBounds(count: Int) {
        let expected: ClusterSecretError = count < 32 ? .tooShort(byteCount: count) : .tooLong(byteCount: count)
        #expect(throws: expected) { try ClusterSecret(bytes: Array(repeating: 7, count: count)) }
        #expect(expected.description.contains("openssl rand -out cluster.secret 32"))
        #expect(expected.description.contains("\(count) bytes"))
    }

    @Test("32 and 1024 bytes are accepted")
    func lengthLimits() throws {
        _ = try ClusterSecret(bytes: Array(repeating: 1, count: 32))
        _ = try ClusterSecret(bytes: Array(repeating: 1, count: 1024))
    }

    @Test("secrets compare by content; the set keeps current first and drops a duplicate of it")
    func equalityAndSet() throws {
        let a = try ClusterSecret(bytes: Self.bytes)
        let b = try ClusterSecret(bytes: Self.bytes.reversed())
        #expect(a == (try ClusterSecret(bytes: Self.bytes)))
        #expect(a != b)
        #expect(a != (try ClusterSecret(bytes: Self.bytes + [0])))
        let secrets = ClusterSecrets(current: a, alsoAccepted: [a, b])
        #expect(secrets.accepted == [a, b])
        #expect(secrets.description == "ClusterSecrets(current: redacted, 1 more accepted)")
    }

    @Test("nonces: exactly 32 bytes; seeded generators repeat, the system generator does not")
    func nonces() {
        #expect(AuthNonce(bytes: Array(repeating: 0, count: 31)) == nil)
        #expect(AuthNonce(bytes: Array(repeating: 0, count: 33)) == nil)
        var first = SeededGenerator(seed: 42)
        var second = SeededGenerator(seed: 42)
        #expect(AuthNonce.random(using: &first) == AuthNonce.random(using: &second))
        var other = SeededGenerator(seed: 43)
        #expect(AuthNonce.random(using: &first) != AuthNonce.random(using: &other))
        let drawn = Set((0..<16).map { _ in AuthNonce.random() })
        #expect(drawn.count == 16)
    }

    @Test("a session draws a fresh nonce per connection under the cluster secret, none without")
    func sessionNonces() throws {
        let secretPolicy = ClusterSecretSessionTests.policy(node: 1, secrets: ClusterSecretSessionTests.secrets)
        let first = PeerSession(policy: secretPolicy, expectedPeer: 2)
        let second = PeerSession(policy: secretPolicy, expectedPeer: 2)
        guard case .handshake(let one) = first.openingFrame, case .handshake(let two) = second.openingFrame else {
            Issue.record("opening frames are handshakes")
            return
        }
        #expect(one.auth.method == .clusterSecret && one.auth.payload.count == 32)
        #expect(one.auth.payload != two.auth.payload)

        let plain = PeerSessionTests.policy(node: 1)
        #expect(PeerSession(policy: plain, expectedPeer: 2).openingFrame == .handshake(plain.localHandshake))
        #expect(plain.handshake(nonce: AuthNonce.random()) == plain.localHandshake)
    }

    @Test("verification: any accepted secret passes; every changed field fails")
    func verification() throws {
        let current = try ClusterSecret(bytes: Self.bytes)
        let previous = try ClusterSecret(bytes: Self.bytes.reversed())
        let sender = Handshake(
            nodeID: 1, clusterName: Fixtures.prod, algorithm: .raft,
            auth: Fixtures.auth(1, payload: Array(repeating: 1, count: 32)))
        let receiver = Handshake(
            nodeID: 2, clusterName: Fixtures.prod, algorithm: .raft,
            auth: Fixtures.auth(1, payload: Array(repeating: 2, count: 32)))
        let proof = ClusterSecretProof.prove(from: sender, as: .dialler, to: receiver, with: previous)

        #expect(ClusterSecretProof.verify(
            proof, from: sender, as: .dialler, to: receiver, accepting: ClusterSecrets(current: current, alsoAccepted: [previous])))
        #expect(!ClusterSecretProof.verify(
            proof, from: sender, as: .dialler, to: receiver, accepting: ClusterSecrets(current: current)))

        let secrets = ClusterSecrets(current: previous)
        #expect(!ClusterSecretProof.verify(proof, from: sender, as: .acceptor, to: receiver, accepting: secrets))
        #expect(!ClusterSecretProof.verify(proof, from: receiver, as: .dialler, to: sender, accepting: secrets))
        let changed: [Handshake] = [
            Handshake(maxVersion: WireVersion.current + 1, nodeID: 1, clusterName: Fixtures.prod, algorithm: .raft,
                      auth: sender.auth),
            Handshake(nodeID: 3, clusterName: Fixtures.prod, algorithm: .raft, auth: sender.auth),
            Handshake(nodeID: 1, clusterName: Fixtures.clusterName("prof"), algorithm: .raft, auth: sender.auth),
            Handshake(nodeID: 1, clusterName: Fixtures.prod, algorithm: .ring, auth: sender.auth),
            Handshake(nodeID: 1, clusterName: Fixtures.prod, algorithm: .raft,
                      auth: Fixtures.auth(1, payload: Array(repeating: 1, count: 31) + [0])),
        ]
        for handshake in changed {
            #expect(!ClusterSecretProof.verify(proof, from: handshake, as: .dialler, to: receiver, accepting: secrets))
            #expect(!ClusterSecretProof.verify(proof, from: sender, as: .dialler, to: handshake, accepting: secrets))
        }
        var flipped = proof.bytes
        flipped[31] ^= 1
        #expect(!ClusterSecretProof.verify(
            try #require(AuthProof(bytes: flipped)), from: sender, as: .dialler, to: receiver, accepting: secrets))
        #expect(AuthProof(bytes: Array(proof.bytes.dropLast())) == nil)
    }
}

/// SplitMix64: a tiny deterministic generator for nonces in tests.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
