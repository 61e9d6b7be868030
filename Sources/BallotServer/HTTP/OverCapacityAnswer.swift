import NIOCore
import NIOTLS

/// A connection over the cap with nothing idle to make room: answered 503 with `Retry-After` as
/// soon as it can be written to (after the TLS handshake, offered only `http/1.1`), then closed.
/// The whole refusal is bounded by the request timeout.
final class OverCapacityAnswer: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let tls: Bool
    private let timeout: TimeAmount
    private var answered = false
    private var deadline: Scheduled<Void>?

    init(tls: Bool, timeout: Duration) {
        self.tls = tls
        self.timeout = .nanoseconds(timeout.nanoseconds)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        if !tls && context.channel.isActive { answer(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if !tls { answer(context) }
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent { answer(context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}  // Dropped: nothing is served.

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    private func answer(_ context: ChannelHandlerContext) {
        guard !answered else { return }
        answered = true
        let bytes = RawHTTPAnswer.bytes(
            status: .serviceUnavailable, message: "too many connections to this node; try again later",
            headers: [("Retry-After", "1")])
        context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
        // The client reads the answer and closes; if it does not, the connection goes in a second.
        let channel = context.channel
        deadline?.cancel()
        deadline = context.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
    }
}
