import BallotHarness
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A client connection that sends exactly the bytes a test gives it and records whatever comes
/// back, plaintext or TLS: for clients that misbehave (trickle a head, send too much, never send).
final class RawConnection: Sendable {
    let channel: any Channel
    private let state: NIOLockedValueBox<(bytes: [UInt8], closed: Bool)>

    private init(channel: any Channel, state: NIOLockedValueBox<(bytes: [UInt8], closed: Bool)>) {
        self.channel = channel
        self.state = state
    }

    /// Connects to 127.0.0.1:`port`; with `tls`, completes a TLS handshake first (its context's ALPN).
    static func open(port: Int, tls: NIOSSLContext? = nil) async throws -> RawConnection {
        let state = NIOLockedValueBox<(bytes: [UInt8], closed: Bool)>(([], false))
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: nil))
                    }
                    try channel.pipeline.syncOperations.addHandler(Collector(state: state))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, state: state)
    }

    func send(_ text: String) async throws {
        try await send(Array(text.utf8))
    }

    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    var received: String { String(decoding: state.withLockedValue { $0.bytes }, as: UTF8.self) }
    var isClosed: Bool { state.withLockedValue { $0.closed } }

    /// Waits (at most `timeout`) until `condition` holds for what arrived; returns whether it did.
    @discardableResult
    func wait(timeout: Duration, until condition: (_ received: String, _ closed: Bool) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let (bytes, closed) = state.withLockedValue { $0 }
            if condition(String(decoding: bytes, as: UTF8.self), closed) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        let (bytes, closed) = state.withLockedValue { $0 }
        return condition(String(decoding: bytes, as: UTF8.self), closed)
    }

    /// Waits (at most `timeout`) for the server to close the connection.
    func waitForClose(timeout: Duration) async -> Bool {
        await wait(timeout: timeout) { _, closed in closed }
    }

    func close() async {
        try? await channel.close().get()
    }

    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let state: NIOLockedValueBox<(bytes: [UInt8], closed: Bool)>

        init(state: NIOLockedValueBox<(bytes: [UInt8], closed: Bool)>) {
            self.state = state
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            state.withLockedValue { $0.bytes.append(contentsOf: buffer.readableBytesView) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            state.withLockedValue { $0.closed = true }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            state.withLockedValue { $0.closed = true }
            context.close(promise: nil)
        }
    }
}
