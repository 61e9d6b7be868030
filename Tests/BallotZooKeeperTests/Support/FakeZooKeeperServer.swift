import BallotZooKeeper
import NIOCore
import NIOPosix

/// A stand-in ZooKeeper server on 127.0.0.1 that answers each frame a client sends with scripted
/// bytes — valid or malformed — to drive the client where a real server never goes.
final class FakeZooKeeperServer: Sendable {
    /// What to do after the client's `frame`-th frame (0 is the connect request) on its
    /// `connection`-th connection (0 is the first).
    enum Action: Sendable {
        case send([UInt8])
        case sendAndClose([UInt8])
        case close
        case nothing
    }

    typealias Script = @Sendable (_ connection: Int, _ frame: Int, _ bytes: [UInt8]) -> Action

    private let channel: any Channel
    private let received: Locked<[[[UInt8]]]>

    var port: Int { channel.localAddress?.port ?? 0 }
    var address: ZooKeeperServerAddress { ZooKeeperServerAddress(host: "127.0.0.1", port: port) }
    /// Every frame received so far (without length prefixes), per connection.
    var frames: [[[UInt8]]] { received.withLock { $0 } }

    private init(channel: any Channel, received: Locked<[[[UInt8]]]>) {
        self.channel = channel
        self.received = received
    }

    static func start(_ script: @escaping Script) async throws -> FakeZooKeeperServer {
        let log = Locked<[[[UInt8]]]>([])
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ZooKeeperFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(ScriptedHandler(script: script, log: log))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return FakeZooKeeperServer(channel: server, received: log)
    }

    func stop() async {
        try? await channel.close()
    }

    /// A connect response granting `sessionID` with `timeout` ms and a 16-byte password.
    static func connectResponse(timeout: Int32, sessionID: Int64) -> [UInt8] {
        framed(int32(0) + int32(timeout) + int64(sessionID) + int32(16) + [UInt8](repeating: 0xA5, count: 16) + [0])
    }

    /// A reply header frame with `body` after it.
    static func reply(xid: Int32, zxid: Int64, error: Int32 = 0, body: [UInt8] = []) -> [UInt8] {
        framed(int32(xid) + int64(zxid) + int32(error) + body)
    }
}

private final class ScriptedHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let script: FakeZooKeeperServer.Script
    let log: Locked<[[[UInt8]]]>
    var connection = 0
    var frame = 0

    init(script: @escaping FakeZooKeeperServer.Script, log: Locked<[[[UInt8]]]>) {
        self.script = script
        self.log = log
    }

    func channelActive(context: ChannelHandlerContext) {
        connection = log.withLock { connections in
            connections.append([])
            return connections.count - 1
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let payload = bytes(of: unwrapInboundIn(data))
        let connection = connection
        log.withLock { $0[connection].append(payload) }
        let action = script(connection, frame, payload)
        frame += 1
        switch action {
        case .send(let bytes):
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: bytes)), promise: nil)
        case .sendAndClose(let bytes):
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: bytes))).whenComplete { _ in channel.close(promise: nil) }
        case .close:
            context.close(promise: nil)
        case .nothing:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
