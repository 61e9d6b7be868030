import BallotCore
import BallotWire
import Testing

@Suite("Handshake policy and session lifecycle")
struct PeerSessionTests {
    static let members = Membership([1, 2, 3])

    static func policy(node: NodeID, cluster: String = "prod", algorithm: ElectionAlgorithmKind = .raft) -> HandshakePolicy {
        HandshakePolicy(
            localNode: node, clusterName: Fixtures.clusterName(cluster), membership: members, algorithm: algorithm)
    }

    /// Carries frames from one session to the other through real bytes and a streaming decoder.
    static func transmit(_ frame: PeerFrame, to decoder: inout FrameDecoder) throws -> PeerFrame {
        decoder.append(FrameEncoder.encode(frame))
        return try #require(try decoder.nextFrame())
    }

    @Test("two members complete the exchange and then deliver messages")
    func fullExchange() throws {
        var dialer = PeerSession(policy: Self.policy(node: 1), expectedPeer: 2)
        var acceptor = PeerSession(policy: Self.policy(node: 2), expectedPeer: nil)
        var toDialer = FrameDecoder()
        var toAcceptor = FrameDecoder()

        // Both open with their handshake, without waiting for the other.
        let dialerHello = try Self.transmit(dialer.openingFrame, to: &toAcceptor)
        let acceptorHello = try Self.transmit(acceptor.openingFrame, to: &toDialer)
        #expect(acceptor.peer == nil)

        let acceptorStep = try acceptor.receive(dialerHello)
        #expect(acceptorStep == .send(.handshakeReply(.accepted)))
        #expect(acceptor.state == .awaitingReply(peer: 1, version: WireVersion.current))
        #expect(acceptor.peer == 1)
        let dialerStep = try dialer.receive(acceptorHello)
        #expect(dialerStep == .send(.handshakeReply(.accepted)))

        guard case .send(let acceptorReply) = acceptorStep, case .send(let dialerReply) = dialerStep else { return }
        #expect(try dialer.receive(Self.transmit(acceptorReply, to: &toDialer)) == .established(peer: 2))
        #expect(try acceptor.receive(Self.transmit(dialerReply, to: &toAcceptor)) == .established(peer: 1))
        #expect(dialer.state == .established(peer: 2, version: WireVersion.current))

        let vote = Message.voteRequest(VoteRequest(term: 4, lastLog: LogPosition(index: 2, term: 3)))
        #expect(try acceptor.receive(Self.transmit(.message(vote), to: &toAcceptor)) == .deliver(vote, from: 1))
        // Version 2: the dialler says where its HTTP endpoint is; the acceptor keeps it.
        let info = try MemberInfo(advertisedHTTP: "http://127.0.0.1:9101")
        #expect(try acceptor.receive(Self.transmit(.memberInfo(info), to: &toAcceptor)) == .memberInfo(info, from: 1))
    }

    @Test("member_info before the exchange completes is malformed")
    func memberInfoTooEarly() throws {
        var acceptor = PeerSession(policy: Self.policy(node: 2), expectedPeer: nil)
        #expect(throws: WireError.unexpectedFrame(.memberInfo, state: "awaiting the peer's handshake")) {
            try acceptor.receive(.memberInfo(.none))
        }
    }

    @Test("a handshake that fails policy is refused with the matching reason", arguments: [
        (Handshake(nodeID: 2, clusterName: Fixtures.clusterName("test"), algorithm: .raft),
         WireError.wrongCluster(expected: "prod", received: "test"), RejectReason.wrongCluster),
        (Handshake(nodeID: 2, clusterName: Fixtures.prod, algorithm: .bully),
         WireError.wrongAlgorithm(expected: .raft, received: .bully), RejectReason.wrongAlgorithm),
        (Handshake(nodeID: 9, clusterName: Fixtures.prod, algorithm: .raft),
         WireError.unknownNode(9), RejectReason.unknownNode),
        (Handshake(nodeID: 1, clusterName: Fixtures.prod, algorithm: .raft),
         WireError.selfConnection(1), RejectReason.unknownNode),
        (Handshake(nodeID: 3, clusterName: Fixtures.prod, algorithm: .raft),
         WireError.unexpectedPeer(expected: 2, received: 3), RejectReason.unknownNode),
        (Handshake(nodeID: 2, clusterName: Fixtures.prod, algorithm: .raft, auth: Fixtures.auth(5, payload: [1])),
         WireError.unsupportedAuthMethod(AuthMethod(rawValue: 5)), RejectReason.auth),
    ])
    func policyRejections(handshake: Handshake, error: WireError, reason: RejectReason) throws {
        var session = PeerSession(policy: Self.policy(node: 1), expectedPeer: 2)
        #expect(throws: error) { try session.receive(.handshake(handshake)) }
        #expect(session.state == .failed(error))
        #expect(session.peer == nil)
        let rejection = try #require(error.rejection)
        #expect(rejection.reason == reason)
        #expect(rejection.message == error.description)
        // The session stays failed: even a valid handshake is no longer accepted.
        let valid = Handshake(nodeID: 2, clusterName: Fixtures.prod, algorithm: .raft)
        #expect(throws: error) { try session.receive(.handshake(valid)) }
    }

    @Test("the cluster is checked before the node, so a foreign cluster is reported as such")
    func clusterCheckedFirst() {
        let policy = Self.policy(node: 1)
        let foreign = Handshake(nodeID: 9, clusterName: Fixtures.clusterName("test"), algorithm: .bully)
        #expect(throws: WireError.wrongCluster(expected: "prod", received: "test")) {
            try policy.check(foreign, expectedPeer: 2)
        }
    }

    @Test("an accepted connection takes any member; a configured auth method is accepted")
    func acceptedConnectionsAndAuth() throws {
        let secret = Fixtures.auth(1, payload: [9, 9])
        let policy = HandshakePolicy(
            localNode: 1, clusterName: Fixtures.prod, membership: Self.members, algorithm: .raft,
            localAuth: secret, acceptedAuthMethods: [AuthMethod(rawValue: 1)])
        try policy.check(Handshake(nodeID: 3, clusterName: Fixtures.prod, algorithm: .raft, auth: secret), expectedPeer: nil)
        #expect(policy.localHandshake.auth == secret)
        #expect(throws: WireError.unsupportedAuthMethod(.none)) {
            try policy.check(Handshake(nodeID: 3, clusterName: Fixtures.prod, algorithm: .raft), expectedPeer: nil)
        }
    }

    @Test("election messages before the exchange completes are refused")
    func messageBeforeHandshake() throws {
        let heartbeat = PeerFrame.message(.heartbeat(Heartbeat(term: 1, sequence: 1, leaderLog: .empty)))
        var fresh = PeerSession(policy: Self.policy(node: 1), expectedPeer: nil)
        #expect(throws: WireError.unexpectedFrame(.heartbeat, state: "awaiting the peer's handshake")) {
            try fresh.receive(heartbeat)
        }

        var halfway = PeerSession(policy: Self.policy(node: 1), expectedPeer: nil)
        _ = try halfway.receive(.handshake(Handshake(nodeID: 2, clusterName: Fixtures.prod, algorithm: .raft)))
        #expect(throws: WireError.unexpectedFrame(.heartbeat, state: "awaiting node 2's reply to our handshake")) {
            try halfway.receive(heartbeat)
        }
        #expect(halfway.state == .failed(.unexpectedFrame(.heartbeat, state: "awaiting node 2's reply to our handshake")))
    }

    @Test("an established session delivers only its own algorithm's messages")
    func foreignAlgorithmMessagesAreRefused() throws {
        var bully = PeerSession(policy: Self.policy(node: 1, algorithm: .bully), expectedPeer: 2)
        _ = try bully.receive(.handshake(Handshake(nodeID: 2, clusterName: Fixtures.prod, algorithm: .bully)))
        _ = try bully.receive(.handshakeReply(.accepted))
        let answer = Message.bullyAnswer(BullyAnswer(epoch: 3))
        #expect(try bully.receive(.message(answer)) == .deliver(answer, from: 2))
        let heartbeat = PeerFrame.message(.heartbeat(Heartbeat(term: 1, sequence: 1, leaderLog: .empty)))
        #expect(throws: WireError.unexpectedFrame(.heartbeat, state: "established with node 2 running bully")) {
            try bully.receive(heartbeat)
        }

        var raft = PeerSession(policy: Self.policy(node: 1), expectedPeer: 2)
        _ = try raft.receive(.handshake(Handshake(nodeID: 2, clusterName: Fixtures.prod, algorithm: .raft)))
        _ = try raft.receive(.handshakeReply(.accepted))
        #expect(throws: WireError.unexpectedFrame(.ringHeartbeat, state: "established with node 2 running raft")) {
            try raft.receive(.message(.ringHeartbeat(RingHeartbeat(epoch: 1))))
        }
    }

    @Test("a reply before the handshake, or a second handshake, is refused")
    func outOfOrderControlFrames() throws {
        var early = PeerSession(policy: Self.policy(node: 1), expectedPeer: nil)
        #expect(throws: WireError.self) { try early.receive(.handshakeReply(.accepted)) }

        var established = PeerSession(policy: Self.policy(node: 1), expectedPeer: nil)
        let hello = Handshake(nodeID: 2, clusterName: Fixtures.prod, algorithm: .raft)
        _ = try established.receive(.handshake(hello))
        _ = try established.receive(.handshakeReply(.accepted))
        #expect(throws: WireError.unexpectedFrame(.handshake, state: "established with node 2")) {
            try established.receive(.handshake(hello))
        }
    }

    @Test("a rejecting reply ends the session in any state, and is not answered")
    func rejectionFromPeer() throws {
        let rejection = HandshakeRejection(reason: .wrongCluster, message: "peer belongs to cluster \"test\"")
        var waiting = PeerSession(policy: Self.policy(node: 1), expectedPeer: 2)
        #expect(throws: WireError.rejectedByPeer(rejection)) { try waiting.receive(.handshakeReply(.rejected(rejection))) }

        var established = PeerSession(policy: Self.policy(node: 1), expectedPeer: 2)
        _ = try established.receive(.handshake(Handshake(nodeID: 2, clusterName: Fixtures.prod, algorithm: .raft)))
        _ = try established.receive(.handshakeReply(.accepted))
        #expect(throws: WireError.rejectedByPeer(rejection)) {
            try established.receive(.handshakeReply(.rejected(rejection)))
        }
        #expect(WireError.rejectedByPeer(rejection).rejection == nil)
        #expect(WireError.rejectedByPeer(rejection).metricReason == "wrong_cluster")
    }

    @Test("a cluster name from a peer is quoted and escaped in messages")
    func hostileClusterNameIsEscaped() {
        let error = WireError.wrongCluster(expected: "prod", received: "x\"\nFAKE LOG LINE")
        #expect(error.description == #"peer belongs to cluster "x\"\nFAKE LOG LINE", this node to "prod""#)
    }

    @Test("algorithm names match the cores' own names")
    func algorithmNames() {
        #expect(ElectionAlgorithmKind.raft.description == RaftNode.algorithmName)
        #expect(ElectionAlgorithmKind.bully.description == BullyNode.algorithmName)
        #expect(ElectionAlgorithmKind.ring.description == RingNode.algorithmName)
        #expect(ElectionAlgorithmKind.allCases.map(\.wireCode) == [1, 2, 3])
    }

    @Test("the negotiated version is the lower of both maxima")
    func versionNegotiation() throws {
        #expect(WireVersion.negotiated(local: 1, remote: 7) == 1)
        #expect(WireVersion.negotiated(local: 3, remote: 2) == 2)
        var session = PeerSession(policy: Self.policy(node: 1), expectedPeer: nil)
        let newer = Handshake(maxVersion: 9, nodeID: 3, clusterName: Fixtures.prod, algorithm: .raft, auth: .none)
        _ = try session.receive(.handshake(newer))
        #expect(session.state == .awaitingReply(peer: 3, version: WireVersion.current))
        var old = PeerSession(policy: Self.policy(node: 1), expectedPeer: nil)
        let older = Handshake(maxVersion: 1, nodeID: 3, clusterName: Fixtures.prod, algorithm: .raft, auth: .none)
        _ = try old.receive(.handshake(older))
        #expect(old.state == .awaitingReply(peer: 3, version: 1), "a version-1 peer is spoken to in version 1")
    }
}
