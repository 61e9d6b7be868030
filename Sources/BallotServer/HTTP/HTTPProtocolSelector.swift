import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOSSL
import NIOTLS

/// One request/answer channel: an HTTP/1.1 connection, or one HTTP/2 stream seen through the
/// HTTP/2-to-HTTP/1 codec, so that the same code serves both.
typealias HTTPExchangeChannel = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

/// An accepted connection once its protocol is known.
enum HTTPConnection: Sendable {
    case http1(HTTPExchangeChannel, HTTPConnectionInfo)
    case http2(any Channel, NIOHTTP2Handler.AsyncStreamMultiplexer<HTTPExchangeChannel>, HTTPConnectionInfo)
}

/// The connection ended before it chose a protocol (a failed TLS handshake, a client that left).
struct ConnectionEndedEarly: Error {}

/// Decides whether a connection speaks HTTP/1.1 or HTTP/2 — by ALPN after the TLS handshake, or,
/// in plaintext, by whether its first 24 bytes are the HTTP/2 preface (prior knowledge, h2c) —
/// then builds the rest of the pipeline and removes itself.
final class HTTPProtocolSelector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    /// Builds the pipeline after this handler for the chosen version; called on the event loop.
    typealias Configure = (any Channel, HTTPConnectionInfo.Version, _ verifiedClientCertificate: Bool) throws -> HTTPConnection

    static let http2Preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    private let tls: Bool
    private let verifiesClientCertificates: Bool
    private let configure: Configure
    private let decision: EventLoopPromise<HTTPConnection>
    private var buffered: ByteBuffer?
    private var decided = false

    init(tls: Bool, verifiesClientCertificates: Bool, decision: EventLoopPromise<HTTPConnection>,
         configure: @escaping Configure) {
        self.tls = tls
        self.verifiesClientCertificates = verifiesClientCertificates
        self.decision = decision
        self.configure = configure
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        guard !decided else {
            context.fireChannelRead(data)
            return
        }
        if buffered == nil {
            buffered = incoming
        } else {
            buffered!.writeBuffer(&incoming)
        }
        guard !tls, let bytes = buffered else { return }  // With TLS, ALPN decides.
        let prefix = bytes.readableBytesView.prefix(Self.http2Preface.count)
        if !prefix.elementsEqual(Self.http2Preface.prefix(prefix.count)) {
            decide(.http1, verified: false, context: context)
        } else if prefix.count == Self.http2Preface.count {
            decide(.http2, verified: false, context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !decided, case .handshakeCompleted(let negotiated) = event as? TLSUserEvent {
            let handler = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
            let verified = verifiesClientCertificates && handler?.peerCertificate != nil
            decide(negotiated == "h2" ? .http2 : .http1, verified: verified, context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        giveUp()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Before a protocol is chosen, any error (a failed handshake above all) ends the connection.
        if !decided {
            giveUp()
            context.close(promise: nil)
        } else {
            context.fireErrorCaught(error)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        giveUp()
    }

    private func giveUp() {
        guard !decided else { return }
        decided = true
        decision.fail(ConnectionEndedEarly())
    }

    private func decide(_ version: HTTPConnectionInfo.Version, verified: Bool, context: ChannelHandlerContext) {
        decided = true
        do {
            decision.succeed(try configure(context.channel, version, verified))
        } catch {
            decision.fail(error)
            context.close(promise: nil)
            return
        }
        if let bytes = buffered {
            buffered = nil
            context.fireChannelRead(wrapInboundOut(bytes))
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}

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
