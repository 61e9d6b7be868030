import BallotZooKeeper
import NIOCore
import Testing

/// The client against a scripted server on loopback: bad bytes, answers out of order, an expired
/// or substituted session, silence — what a real ZooKeeper does not do on demand.
@Suite("Client against a scripted server")
struct FakeServerTests {
    static let session: Int64 = 0x55
    static let welcome = FakeZooKeeperServer.connectResponse(timeout: 10_000, sessionID: session)

    static func configuration(_ server: FakeZooKeeperServer, connectTimeout: Duration = .seconds(5)) -> ZooKeeperConfiguration {
        ZooKeeperConfiguration(servers: [server.address], sessionTimeout: .seconds(10), connectTimeout: connectTimeout,
                               closeTimeout: .milliseconds(500))
    }

    /// The xid of a request frame (its first four bytes).
    static func xid(_ frame: [UInt8]) -> Int32 {
        frame.prefix(4).reduce(Int32(0)) { $0 << 8 | Int32($1) }
    }

    @Test("Malformed bytes instead of a connect response: connect fails with the typed error",
          arguments: [
            (hex("FF FF FF FF"), ZooKeeperProtocolError.malformed(JuteField("frame", "length"), offset: 0, .negativeLength(-1))),
            (hex("00 20 00 00"), ZooKeeperProtocolError.frameTooLarge(declaredLength: 1 << 21, limit: 1 << 20)),
            (framed(hex("00 00 00 00 00 00 27 10")), ZooKeeperProtocolError.malformed(
                JuteField("ConnectResponse", "sessionId"), offset: 12, .truncated(needed: 8, available: 0))),
            (framed(hex("00 00 00 01 00 00 27 10 00 00 00 00 00 00 00 01 00 00 00 00")),
             ZooKeeperProtocolError.unsupportedProtocolVersion(1)),
          ])
    func malformedHandshake(reply: [UInt8], expected: ZooKeeperProtocolError) async throws {
        let server = try await FakeZooKeeperServer.start { _, _, _ in .send(reply) }
        defer { Task { await server.stop() } }
        await #expect(throws: ZooKeeperError.noServerReachable([server.address: .protocolError(expected)])) {
            _ = try await connectClient(Self.configuration(server, connectTimeout: .milliseconds(700)))
        }
    }

    @Test("A malformed reply fails the request and the connection; the client resumes the session elsewhere")
    func malformedReply() async throws {
        let server = try await FakeZooKeeperServer.start { connection, frame, bytes in
            switch (connection, frame) {
            case (_, 0): .send(Self.welcome)
            // getChildren answered with 2^31 − 1 children in a 20-byte frame.
            case (0, 1): .send(FakeZooKeeperServer.reply(xid: 1, zxid: 5, body: int32(.max)))
            default: .sendAndClose(FakeZooKeeperServer.reply(xid: Self.xid(bytes), zxid: 6))
            }
        }
        defer { Task { await server.stop() } }
        let client = try await connectClient(Self.configuration(server))
        let events = EventLog(client)
        let refusal = ZooKeeperProtocolError.malformed(
            JuteField("GetChildrenResponse", "children"), offset: 20, .lengthOverLimit(Int(Int32.max), limit: 1 << 18))
        await #expect(throws: ZooKeeperError.connectionLoss(.protocolError(refusal))) {
            _ = try await client.getChildren("/election")
        }
        let resumed = await events.wait(upTo: .seconds(10)) { $0.count >= 3 }
        #expect(resumed)
        let info = ZooKeeperSessionInfo(sessionID: Self.session, negotiatedTimeout: .seconds(10), server: server.address, readOnly: false)
        #expect(events.all.prefix(3) == [.connected(info), .disconnected(server: server.address, cause: .protocolError(refusal)),
                                        .connected(info)])
        #expect(ZooKeeperConnectionError.protocolError(refusal).reason == "malformed")
        // The second connection resumed the session: its ID and password, not a new session.
        let reconnect = try #require(server.frames.dropFirst().first?.first)
        #expect(Array(reconnect[16..<24]) == int64(Self.session))
        #expect(Array(reconnect[24..<44]) == int32(16) + [UInt8](repeating: 0xA5, count: 16))
        await client.close()
        #expect(await events.wait(upTo: .seconds(5)) { $0.last == .closed })
        #expect(client.status.state == .closed)
    }

    @Test("A reply for another xid than the oldest request's breaks the connection")
    func outOfOrderReply() async throws {
        let server = try await FakeZooKeeperServer.start { _, frame, _ in
            frame == 0 ? .send(Self.welcome) : .send(FakeZooKeeperServer.reply(xid: 7, zxid: 1))
        }
        defer { Task { await server.stop() } }
        let client = try await connectClient(Self.configuration(server))
        await #expect(throws: ZooKeeperError.connectionLoss(.protocolError(.unexpectedReply(xid: 7, expected: 1)))) {
            try await client.delete("/a")
        }
        await client.close()
    }

    @Test("A watch notification comes out before the reply that follows it, and only once")
    func notificationOrder() async throws {
        let deleted = framed(int32(-1) + int64(-1) + int32(0) + int32(2) + int32(3) + juteString("/a"))
        let server = try await FakeZooKeeperServer.start { _, frame, bytes in
            switch frame {
            case 0: return .send(Self.welcome)
            case 1: return .send(FakeZooKeeperServer.reply(xid: 1, zxid: 3, body: hex("00 00 00 00") + goldenStatBytes))
            // The delete's answer comes after two notifications of the same deletion.
            case 2: return .send(deleted + deleted + FakeZooKeeperServer.reply(xid: Self.xid(bytes), zxid: 4))
            default: return .sendAndClose(FakeZooKeeperServer.reply(xid: Self.xid(bytes), zxid: 5))
            }
        }
        defer { Task { await server.stop() } }
        let client = try await connectClient(Self.configuration(server))
        let events = EventLog(client)
        #expect(try await client.getData("/a", watch: true).stat == goldenStat)
        #expect(client.status.eventsDelivered == 1)
        try await client.delete("/a")
        // When the delete returns, the notification is already on the stream, counted once.
        #expect(client.status.eventsDelivered == 2)
        #expect(client.status.lastZxidSeen == 4)
        await client.close()
        #expect(await events.wait(upTo: .seconds(5)) { $0.last == .closed })
        #expect(events.watches == [WatcherEvent(type: .nodeDeleted, path: "/a")])
    }

    @Test("Expired on reconnect: reported as expired, final, and never replaced by a new session")
    func expiredOnReconnect() async throws {
        let server = try await FakeZooKeeperServer.start { connection, frame, _ in
            switch (connection, frame) {
            case (0, 0): .send(Self.welcome)
            case (0, _): .close
            default: .sendAndClose(FakeZooKeeperServer.connectResponse(timeout: 0, sessionID: 0))
            }
        }
        defer { Task { await server.stop() } }
        let client = try await connectClient(Self.configuration(server))
        let events = EventLog(client)
        await #expect(throws: ZooKeeperError.connectionLoss(.closedByServer)) { _ = try await client.exists("/a") }
        #expect(await events.wait(upTo: .seconds(10)) { $0.last == .expired })
        #expect(await events.wait(upTo: .seconds(5)) { _ in events.isFinished })
        #expect(Array(events.all.dropFirst()) == [.disconnected(server: server.address, cause: .closedByServer), .expired])
        #expect(client.status.state == .expired)
        #expect(client.status.session?.sessionID == Self.session)
        await #expect(throws: ZooKeeperError.sessionExpired) { _ = try await client.exists("/a") }
        await client.close()
        #expect(server.frames.count == 2)
    }

    @Test("A reconnect answered with another session is refused; the client keeps its own")
    func substitutedSession() async throws {
        let server = try await FakeZooKeeperServer.start { connection, frame, bytes in
            switch (connection, frame) {
            case (0, 0): .send(Self.welcome)
            case (0, _): .close
            case (1, 0): .send(FakeZooKeeperServer.connectResponse(timeout: 10_000, sessionID: 0x66))
            case (_, 0): .send(Self.welcome)
            default: .sendAndClose(FakeZooKeeperServer.reply(xid: Self.xid(bytes), zxid: 1))
            }
        }
        defer { Task { await server.stop() } }
        let client = try await connectClient(Self.configuration(server))
        let events = EventLog(client)
        _ = try? await client.exists("/a")
        #expect(await events.wait(upTo: .seconds(10)) { $0.count >= 3 })
        #expect(server.frames.count >= 3)
        guard case .connected(let info) = events.all[2] else {
            Issue.record("expected a reconnection, got \(events.all)")
            return
        }
        #expect(info.sessionID == Self.session)
        await client.close()
    }

    @Test("Idle: pings at a third of the timeout move lastAnsweredRequestSentAt; unanswered, the client moves on")
    func pings() async throws {
        let pingsAnswered = Locked(0)
        let server = try await FakeZooKeeperServer.start { connection, frame, bytes in
            if frame == 0 { return .send(FakeZooKeeperServer.connectResponse(timeout: 900, sessionID: Self.session)) }
            guard Self.xid(bytes) == -2, connection == 0 else { return .nothing }
            // The first connection answers three pings, then falls silent.
            let answered = pingsAnswered.withLock { count in
                count += 1
                return count
            }
            return answered <= 3 ? .send(FakeZooKeeperServer.reply(xid: -2, zxid: 9)) : .nothing
        }
        defer { Task { await server.stop() } }
        let client = try await connectClient(
            ZooKeeperConfiguration(servers: [server.address], sessionTimeout: .milliseconds(900), closeTimeout: .milliseconds(200)))
        let events = EventLog(client)
        let afterHandshake = try #require(client.status.lastAnsweredRequestSentAt)
        #expect(client.status.session?.negotiatedTimeout == .milliseconds(900))
        let moved = await eventually(upTo: .seconds(10)) { (client.status.lastAnsweredRequestSentAt ?? afterHandshake) > afterHandshake }
        #expect(moved)
        // After the third answer the server is silent: two thirds of the timeout later the client
        // gives up on the connection and opens another one with the same session.
        let reconnected = await events.wait(upTo: .seconds(20)) { $0.count >= 3 }
        #expect(reconnected)
        #expect(events.all.dropFirst().first == .disconnected(server: server.address, cause: .timedOut))
        #expect(server.frames[0].dropFirst().allSatisfy { $0 == hex("FF FF FF FE 00 00 00 0B") })
        #expect(client.status.lastAnsweredRequestSentAt.map { $0 <= ContinuousClock.now } == true)
        await client.close()
    }
}
