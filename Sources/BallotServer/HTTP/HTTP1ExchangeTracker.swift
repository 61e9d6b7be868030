import NIOCore
import NIOHTTP1

/// HTTP/1.1: tells the ``ConnectionGuard`` when a request has arrived whole and when its answer
/// has been written whole, and answers malformed requests (400, or 431 for headers over the cap)
/// in the endpoint's JSON before closing.
final class HTTP1ExchangeTracker: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let connectionGuard: ConnectionGuard
    private let metrics: HTTPMetrics
    /// Requests received whose answer has not been written whole.
    private var unanswered = 0
    private var answering = false

    init(connectionGuard: ConnectionGuard, metrics: HTTPMetrics) {
        self.connectionGuard = connectionGuard
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) {
            unanswered += 1
            connectionGuard.requestReceived()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        context.write(data, promise: promise)
        switch part {
        case .head: answering = true
        case .body: break
        case .end:
            answering = false
            if unanswered > 0 {
                unanswered -= 1
                connectionGuard.responseFinished()
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        metrics.closedConnection(.protocolError)
        guard !answering else {
            context.close(promise: nil)
            return
        }
        let answer: HTTPResponse = parserError == .headerOverflow
            ? .error(.requestHeaderFieldsTooLarge, "the request headers are too large; send fewer or shorter headers")
            : .error(.badRequest, "malformed HTTP/1.1 request (\(parserError)); nothing was done")
        var headers = answer.headers
        headers.add(name: "Content-Length", value: String(answer.bodyBytes.count))
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: answer.status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: answer.bodyBytes)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
