import NIOCore
import NIOHTTP1
import NIOHTTP2

/// Tells the ``ConnectionGuard`` of an HTTP/2 connection when streams open and close.
struct HTTP2StreamCounter: NIOHTTP2StreamDelegate {
    let connectionGuard: NIOLoopBound<ConnectionGuard>

    func streamCreated(_ id: HTTP2StreamID, channel: any Channel) {
        connectionGuard.value.streamOpened()
    }

    func streamClosed(_ id: HTTP2StreamID, channel: any Channel) {
        connectionGuard.value.streamClosed()
    }
}

/// HTTP/2: a stream's request must arrive whole within the request timeout of its opening;
/// otherwise the stream is reset (the connection and its other streams go on).
final class HTTP2StreamDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    private let timeout: TimeAmount
    private let metrics: HTTPMetrics
    private var timer: Scheduled<Void>?

    init(timeout: Duration, metrics: HTTPMetrics) {
        self.timeout = .nanoseconds(timeout.nanoseconds)
        self.metrics = metrics
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        let metrics = self.metrics
        timer = context.eventLoop.scheduleTask(in: timeout) {
            metrics.closedConnection(.requestTimeout)
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) {
            timer?.cancel()
            timer = nil
        }
        context.fireChannelRead(data)
    }
}
