import BallotCore
import BallotWire
import Testing

/// Auth method 1 run by two real sessions over real bytes, and every way an impostor can fail.
@Suite("Auth method 1: the cluster secret exchange")
struct ClusterSecretSessionTests {
    static let members = Membership([1, 2, 3])
    static let secretBytes = Array("the cluster secret of prod, 32 bytes or more".utf8)
    static let secret = makeSecret("the cluster secret of prod, 32 bytes or more")
    static let otherSecret = makeSecret("a different secret, also long enough")
    static let secrets = ClusterSecrets(current: secret)
    static let heartbeat = Message.heartbeat(Heartbeat(term: 9, sequence: 1, leaderLog: .empty))

    static func makeSecret(_ text: String) -> ClusterSecret {
        do { return try ClusterSecret(bytes: Array(text.utf8)) } catch { fatalError("\(error)") }
    }

    static func policy(node: NodeID, secrets: ClusterSecrets) -> HandshakePolicy {
        HandshakePolicy(
            localNode: node, clusterName: Fixtures.prod, membership: members, algorithm: .raft, clusterSecrets: secrets)
    }

    static func nonce(_ fill: UInt8) -> AuthNonce { AuthNonce(bytes: Array(repeating: fill, count: 32))! }

    /// One side of a connection: a session and the decoder of the bytes it receives.
    struct Side {
        var session: PeerSession
        var inbox = FrameDecoder()
        /// Every step the session took, and the error that ended it, if any.
        var steps: [PeerSession.Step] = []
        var error: WireError?
        /// Every byte this side sent after its handshake.
        var sent: [UInt8] = []

        init(_ session: PeerSession) { self.session = session }

        /// Decodes `bytes` and feeds every frame to the session; returns the frames it wants sent.
        mutating func receive(_ bytes: [UInt8]) -> [UInt8] {
            guard error == nil else { return [] }
            inbox.append(bytes)
            var outgoing: [UInt8] = []
            // Each frame is at least 6 bytes, so this bound never cuts the loop short.
            for _ in 0...(bytes.count / FrameLayout.headerLength) {
                do throws(WireError) {
                    guard let frame = try inbox.nextFrame() else { break }
                    let step = try session.receive(frame)
                    steps.append(step)
                    if case .send(let reply) = step { outgoing += FrameEncoder.encode(reply) }
                } catch {
                    self.error = error
                    if let rejection = error.rejection {
                        outgoing += FrameEncoder.encode(.handshakeReply(.rejected(rejection)))
                    }
                    break
                }
            }
            sent += outgoing
            return outgoing
        }

        var established: Bool { if case .established = session.state { true } else { false } }
        var delivered: [Message] {
            steps.compactMap { if case .deliver(let message, _) = $0 { message } else { nil } }
        }
    }

    /// Runs a connection between a dialler and an acceptor until neither has anything to send.
    static func connect(_ dialler: inout Side, _ acceptor: inout Side) {
        var toAcceptor = FrameEncoder.encode(dialler.session.openingFrame)
        var toDialler = FrameEncoder.encode(acceptor.session.openingFrame)
        // Three rounds complete the exchange (handshakes, proofs, replies); the bound only guards a bug.
        for _ in 0..<8 where !(toAcceptor.isEmpty && toDialler.isEmpty) {
            let fromAcceptor = acceptor.receive(toAcceptor)
            let fromDialler = dialler.receive(toDialler)
            toDialler = fromAcceptor
            toAcceptor = fromDialler
        }
    }

    @Test("dialler and acceptor prove themselves to each other, then messages flow both ways")
    func successBothDirections() throws {
        for (diallerNode, acceptorNode) in [(1, 2), (3, 1)] as [(NodeID, NodeID)] {
            var dialler = Side(PeerSession(policy: Self.policy(node: diallerNode, secrets: Self.secrets), expectedPeer: acceptorNode))
            var acceptor = Side(PeerSession(policy: Self.policy(node: acceptorNode, secrets: Self.secrets), expectedPeer: nil))
            Self.connect(&dialler, &acceptor)
            #expect(dialler.error == nil && acceptor.error == nil)
            #expect(dialler.session.state == .established(peer: acceptorNode, version: WireVersion.current))
            #expect(acceptor.session.state == .established(peer: diallerNode, version: WireVersion.current))
            // Each side sent its proof, then its accepting reply, then was established.
            for side in [dialler, acceptor] {
                #expect(side.steps.count == 3)
                guard side.steps.count == 3, case .send(.authProof) = side.steps[0] else {
                    Issue.record("first step sends the proof: \(side.steps)")
                    continue
                }
                #expect(side.steps[1] == .send(.handshakeReply(.accepted)))
            }
            // Nothing either side sent contains the secret.
            for side in [dialler, acceptor] {
                let wire = FrameEncoder.encode(side.session.openingFrame) + side.sent
                let width = Self.secretBytes.count
                #expect(wire.count > width)
                #expect(!(0...(wire.count - width)).contains { wire[$0..<($0 + width)].elementsEqual(Self.secretBytes) })
            }
            _ = acceptor.receive(FrameEncoder.encode(.message(Self.heartbeat)))
            _ = dialler.receive(FrameEncoder.encode(.message(Self.heartbeat)))
            #expect(acceptor.delivered == [Self.heartbeat])
            #expect(dialler.delivered == [Self.heartbeat])
        }
    }

    @Test("rotation: a node proving with the new secret is accepted by one that also accepts it, in both roles")
    func rotationOverlap() {
        let old = ClusterSecrets(current: Self.secret, alsoAccepted: [Self.otherSecret])
        let new = ClusterSecrets(current: Self.otherSecret, alsoAccepted: [Self.secret])
        for (diallerSecrets, acceptorSecrets) in [(old, new), (new, old)] {
            var dialler = Side(PeerSession(policy: Self.policy(node: 1, secrets: diallerSecrets), expectedPeer: 2))
            var acceptor = Side(PeerSession(policy: Self.policy(node: 2, secrets: acceptorSecrets), expectedPeer: nil))
            Self.connect(&dialler, &acceptor)
            #expect(dialler.established && acceptor.established)
        }
        // Once the old secret is dropped, a node still proving with it is refused.
        var dialler = Side(PeerSession(policy: Self.policy(node: 1, secrets: Self.secrets), expectedPeer: 2))
        var acceptor = Side(PeerSession(
            policy: Self.policy(node: 2, secrets: ClusterSecrets(current: Self.otherSecret)), expectedPeer: nil))
        Self.connect(&dialler, &acceptor)
        #expect(acceptor.error == .wrongAuthProof(peer: 1))
    }

    @Test("a wrong secret is refused by both sides with auth; no accepting reply, no message delivered")
    func wrongSecret() {
        var dialler = Side(PeerSession(policy: Self.policy(node: 1, secrets: Self.secrets), expectedPeer: 2))
        var acceptor = Side(PeerSession(
            policy: Self.policy(node: 2, secrets: ClusterSecrets(current: Self.otherSecret)), expectedPeer: nil))
        Self.connect(&dialler, &acceptor)
        #expect(acceptor.error == .wrongAuthProof(peer: 1))
        #expect(dialler.error == .wrongAuthProof(peer: 2))
        for side in [dialler, acceptor] {
            #expect(side.error?.metricReason == "auth")
            #expect(side.error?.rejection?.reason == .auth)
            #expect(!side.steps.contains(.send(.handshakeReply(.accepted))))
            #expect(side.session.peer == nil)
        }
    }

    // MARK: An impostor: knows the cluster name and a member's ID, not the secret

    /// A session at node 2 accepting a connection, and the proof it sends to an impostor posing as
    /// node 1 with `impostorNonce`.
    static func victim(nonce: AuthNonce = nonce(0xBB), impostorNonce: AuthNonce = nonce(0x11)) throws
        -> (PeerSession, impostorHello: Handshake, victimProof: AuthProof)
    {
        var victim = PeerSession(policy: policy(node: 2, secrets: secrets), expectedPeer: nil, nonce: nonce)
        let hello = Handshake(
            nodeID: 1, clusterName: Fixtures.prod, algorithm: .raft,
            auth: Fixtures.auth(1, payload: impostorNonce.bytes))
        guard case .send(.authProof(let proof)) = try victim.receive(.handshake(hello)) else {
            throw WireError.unexpectedFrame(.handshake, state: "victim did not send its proof")
        }
        #expect(victim.state == .awaitingProof(peer: 1, version: WireVersion.current))
        #expect(victim.peer == nil, "a claimed ID is not a peer until it has proved itself")
        return (victim, hello, proof)
    }

    @Test("missing proof: an accepting reply, a message or a second handshake where the proof is due",
          arguments: [
            PeerFrame.handshakeReply(.accepted), .message(heartbeat),
            .handshake(Handshake(nodeID: 1, clusterName: Fixtures.prod, algorithm: .raft)),
          ])
    func missingProof(frame: PeerFrame) throws {
        var (victim, _, _) = try Self.victim()
        let error = WireError.missingAuthProof(peer: 1, received: frame.frameType)
        #expect(throws: error) { try victim.receive(frame) }
        #expect(error.metricReason == "auth" && error.rejection?.reason == .auth)
        #expect(victim.state == .failed(error))
        // Even the right proof counts for nothing afterwards.
        #expect(throws: error) { try victim.receive(.authProof(AuthProof(bytes: Array(repeating: 0, count: 32))!)) }
    }

    @Test("a guessed proof is refused")
    func guessedProof() throws {
        var (victim, _, _) = try Self.victim()
        #expect(throws: WireError.wrongAuthProof(peer: 1)) {
            try victim.receive(.authProof(AuthProof(bytes: Array(repeating: 0xAB, count: 32))!))
        }
    }

    @Test("a handshake and proof recorded from an earlier connection are refused on a new one")
    func replayedProof() throws {
        // The real node 1 connects to node 2 once; an eavesdropper records node 1's frames.
        var realDialler = PeerSession(policy: Self.policy(node: 1, secrets: Self.secrets), expectedPeer: 2, nonce: Self.nonce(0x11))
        var firstAcceptor = PeerSession(policy: Self.policy(node: 2, secrets: Self.secrets), expectedPeer: nil, nonce: Self.nonce(0x22))
        guard case .handshake(let recordedHello) = realDialler.openingFrame,
            case .send(let recordedProof) = try realDialler.receive(firstAcceptor.openingFrame)
        else { throw WireError.unexpectedFrame(.handshake, state: "no proof recorded") }
        _ = try firstAcceptor.receive(.handshake(recordedHello))
        #expect(try firstAcceptor.receive(recordedProof) == .send(.handshakeReply(.accepted)))

        // Replayed byte for byte to node 2 on a new connection: node 2's nonce is new.
        var replayTarget = PeerSession(policy: Self.policy(node: 2, secrets: Self.secrets), expectedPeer: nil, nonce: Self.nonce(0x33))
        guard case .send(.authProof) = try replayTarget.receive(.handshake(recordedHello)) else {
            Issue.record("the replayed handshake passes policy and gets a proof")
            return
        }
        #expect(throws: WireError.wrongAuthProof(peer: 1)) { try replayTarget.receive(recordedProof) }
    }

    @Test("a proof sent back to the node that made it is refused as a reflection")
    func reflectedProof() throws {
        var (victim, _, victimProof) = try Self.victim()
        let error = WireError.reflectedAuthProof(peer: 1)
        #expect(throws: error) { try victim.receive(.authProof(victimProof)) }
        #expect(error.metricReason == "auth")
    }

    @Test("an impostor between two members cannot pass one's proof to the other (both are acceptors)")
    func proofPassedOn() throws {
        // The impostor dials node 2 claiming node 1 and dials node 1 claiming node 2, giving each
        // the other's nonce, so both compute proofs over the same nonces and IDs.
        let nonce1 = Self.nonce(0x01), nonce2 = Self.nonce(0x02)
        var node1 = PeerSession(policy: Self.policy(node: 1, secrets: Self.secrets), expectedPeer: nil, nonce: nonce1)
        var node2 = PeerSession(policy: Self.policy(node: 2, secrets: Self.secrets), expectedPeer: nil, nonce: nonce2)
        guard case .send(.authProof(let proofFrom1)) = try node1.receive(node2.openingFrame),
            case .send(.authProof(let proofFrom2)) = try node2.receive(node1.openingFrame)
        else { throw WireError.unexpectedFrame(.handshake, state: "no proofs") }
        #expect(throws: WireError.wrongAuthProof(peer: 1)) { try node2.receive(.authProof(proofFrom1)) }
        #expect(throws: WireError.wrongAuthProof(peer: 2)) { try node1.receive(.authProof(proofFrom2)) }
    }

    @Test("a nonce that is not 32 bytes is refused with auth", arguments: [0, 1, 31, 33, HandshakeAuth.maximumPayloadByteCount])
    func nonceLength(count: Int) throws {
        var session = PeerSession(policy: Self.policy(node: 2, secrets: Self.secrets), expectedPeer: nil)
        let hello = Handshake(
            nodeID: 1, clusterName: Fixtures.prod, algorithm: .raft,
            auth: Fixtures.auth(1, payload: Array(repeating: 5, count: count)))
        // Through real bytes: the decoder passes any payload up to 4096 bytes on to the session.
        let decoded = try FrameDecoder.decode(FrameEncoder.encode(.handshake(hello)))
        #expect(throws: WireError.invalidAuthNonce(byteCount: count)) { try session.receive(decoded) }
        #expect(WireError.invalidAuthNonce(byteCount: count).rejection?.reason == .auth)
    }

    @Test("a payload above 4096 bytes never reaches the session: the decoder refuses its length")
    func oversizedNonce() {
        let base = FrameEncoder.encode(.handshake(Handshake(
            nodeID: 1, clusterName: Fixtures.prod, algorithm: .raft, auth: Fixtures.auth(1, payload: []))))
        // Patch auth_payload_length (offset 26 with "prod") to 4097 and append that many bytes.
        var bytes = base
        bytes[26] = 0x10
        bytes[27] = 0x01
        bytes += Array(repeating: 0, count: 4097)
        let length = UInt32(bytes.count - 4)
        bytes.replaceSubrange(0..<4, with: withUnsafeBytes(of: length.bigEndian) { Array($0) })
        #expect(throws: WireError.invalidFieldLength(
            .handshake, field: .authPayloadLength, offset: 26, length: 4097, allowed: 0...4096)) {
            try FrameDecoder.decode(bytes)
        }
    }

    @Test("an auth_proof body of other than 32 bytes is malformed", arguments: [0, 1, 31, 33, 64])
    func proofLength(count: Int) {
        let length = UInt32(2 + count)
        let bytes = withUnsafeBytes(of: length.bigEndian) { Array($0) } + [0x01, 0x04] + Array(repeating: 9, count: count)
        let expected: WireError = count < 32
            ? .truncatedBody(.authProof, field: .proof, offset: 6, needed: 32, available: count)
            : .trailingBytes(.authProof, offset: 38, count: count - 32)
        #expect(throws: expected) { try FrameDecoder.decode(bytes) }
        #expect(expected.metricReason == "malformed")
    }

    @Test("method mismatch: a node with the secret and one without refuse each other with auth")
    func methodMismatch() {
        var withSecret = Side(PeerSession(policy: Self.policy(node: 1, secrets: Self.secrets), expectedPeer: 2))
        var without = Side(PeerSession(policy: PeerSessionTests.policy(node: 2), expectedPeer: nil))
        Self.connect(&withSecret, &without)
        #expect(withSecret.error == .unsupportedAuthMethod(.none))
        #expect(without.error == .unsupportedAuthMethod(.clusterSecret))
        #expect(withSecret.error?.metricReason == "auth" && without.error?.metricReason == "auth")
        #expect(withSecret.steps.isEmpty && without.steps.isEmpty, "no proof, no reply")
        #expect(WireError.unsupportedAuthMethod(.clusterSecret).description
            == "auth method 1 (cluster secret) is not accepted by this node; every member must use the same "
            + "auth method (a cluster secret on all of them, or on none)")
    }

    @Test("a policy listing method 1 without secrets cannot verify it, so it refuses it")
    func methodWithoutSecrets() throws {
        let policy = HandshakePolicy(
            localNode: 2, clusterName: Fixtures.prod, membership: Self.members, algorithm: .raft,
            acceptedAuthMethods: [.clusterSecret])
        var session = PeerSession(policy: policy, expectedPeer: nil)
        let hello = Handshake(
            nodeID: 1, clusterName: Fixtures.prod, algorithm: .raft, auth: Fixtures.auth(1, payload: Self.nonce(1).bytes))
        #expect(throws: WireError.unsupportedAuthMethod(.clusterSecret)) { try session.receive(.handshake(hello)) }
    }

    @Test("an auth_proof where none is due is malformed", arguments: [false, true])
    func unexpectedProof(withSecret: Bool) throws {
        let proof = PeerFrame.authProof(AuthProof(bytes: Array(repeating: 0, count: 32))!)
        let policy = withSecret ? Self.policy(node: 2, secrets: Self.secrets) : PeerSessionTests.policy(node: 2)
        var before = PeerSession(policy: policy, expectedPeer: nil)
        #expect(throws: WireError.unexpectedFrame(.authProof, state: "awaiting the peer's handshake")) {
            try before.receive(proof)
        }
        #expect(WireError.unexpectedFrame(.authProof, state: "").metricReason == "malformed")
        guard !withSecret else { return }
        var plain = PeerSession(policy: policy, expectedPeer: nil)
        _ = try plain.receive(.handshake(Handshake(nodeID: 1, clusterName: Fixtures.prod, algorithm: .raft)))
        #expect(throws: WireError.unexpectedFrame(.authProof, state: "awaiting node 1's reply to our handshake")) {
            try plain.receive(proof)
        }
    }

    @Test("a second proof after a verified one is malformed")
    func secondProof() throws {
        var dialler = PeerSession(policy: Self.policy(node: 1, secrets: Self.secrets), expectedPeer: 2)
        var acceptor = PeerSession(policy: Self.policy(node: 2, secrets: Self.secrets), expectedPeer: nil)
        guard case .send(let proof) = try dialler.receive(acceptor.openingFrame) else { return }
        _ = try acceptor.receive(dialler.openingFrame)
        #expect(try acceptor.receive(proof) == .send(.handshakeReply(.accepted)))
        #expect(throws: WireError.unexpectedFrame(.authProof, state: "awaiting node 1's reply to our handshake")) {
            try acceptor.receive(proof)
        }
    }

    @Test("a rejecting reply is taken while the proof is due, and not answered")
    func rejectionWhileAwaitingProof() throws {
        var (victim, _, _) = try Self.victim()
        let rejection = HandshakeRejection(reason: .auth, message: "wrong proof")
        #expect(throws: WireError.rejectedByPeer(rejection)) { try victim.receive(.handshakeReply(.rejected(rejection))) }
        #expect(WireError.rejectedByPeer(rejection).rejection == nil)
    }

    @Test("the new errors count as auth and are refused with status 6")
    func errorMapping() {
        let errors: [WireError] = [
            .invalidAuthNonce(byteCount: 3), .missingAuthProof(peer: 1, received: .heartbeat),
            .wrongAuthProof(peer: 1), .reflectedAuthProof(peer: 1),
        ]
        for error in errors {
            #expect(error.reason == .auth)
            #expect(error.rejection?.reason == .auth)
            #expect(error.rejection?.message == error.description)
        }
    }
}
