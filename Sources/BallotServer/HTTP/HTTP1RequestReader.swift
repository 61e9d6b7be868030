import NIOCore
import NIOHTTP1

/// HTTP/1.1 without a task per connection: collects each request on the connection's event loop
/// and, once it has arrived whole, answers it in a task of its own that ends with the answer. So a
/// keep-alive connection waiting for its next request costs no task, and one whose answer is an
/// adopted stream (`/events`, issue 15) costs neither a task nor an HTTP codec: its pipeline is cut
/// down to the connection's guard once the head is written (``HTTPEndpoint/handOver(_:to:)``).
///
/// Requests are answered one at a time and in order: NIO's pipelining handler holds the next
/// request back until the answer's end has been written.
final class HTTP1RequestReader: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart

    private let endpoint: HTTPEndpoint
    private let info: HTTPConnectionInfo
    private var pending: HTTPEndpoint.PendingRequest?
    /// Set once a body over the limit was refused: the rest of the connection's input is ignored.
    private var refused = false

    init(endpoint: HTTPEndpoint, info: HTTPConnectionInfo) {
        self.endpoint = endpoint
        self.info = info
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            pending = HTTPEndpoint.PendingRequest(head: head)
        case .body(let buffer):
            guard var request = pending else { return }
            pending = nil  // Keeps the body uniquely referenced while it grows.
            guard request.fits(more: buffer.readableBytes, limit: endpoint.limits.maxBodySize) else {
                refused = true
                endpoint.refuseLargeBody(request, on: context.channel)
                return
            }
            request.body.append(contentsOf: buffer.readableBytesView)
            pending = request
        case .end:
            guard let request = pending else { return }
            pending = nil
            let (endpoint, info, channel) = (self.endpoint, self.info, context.channel)
            Task { await endpoint.answerHTTP1(request, info: info, on: channel) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Parser errors are answered by the exchange tracker; anything else ends the connection.
        endpoint.logger.debug("HTTP/1.1 connection ended", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}

extension HTTPEndpoint {
    /// Answers one whole HTTP/1.1 request (in its own task) and writes the answer; closes the
    /// connection after it unless the client keeps it alive.
    func answerHTTP1(_ request: PendingRequest, info: HTTPConnectionInfo, on channel: any Channel) async {
        let keepAlive = request.head.isKeepAlive
        let (name, response, headOnly) = await answer(request.message(info))
        var headers = response.headers
        headers.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let answered = { self.metrics.answered(route: name, code: response.status.code, after: ContinuousClock.now - request.started) }
        do {
            switch response.body {
            case .bytes(let body):
                headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
                var parts: [HTTPServerResponsePart] = [.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))]
                if !headOnly && !body.isEmpty { parts.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
                parts.append(.end(nil))
                try await Self.send(parts, on: channel)
                answered()
            case .stream(let produce):
                headers.remove(name: "Content-Length")
                try await Self.send([.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))], on: channel)
                // Streams are timed to their head: how long one stays open is the client's choice.
                answered()
                if !headOnly { try await produce(HTTPBodyWriter { parts in try await Self.send(parts, on: channel) }) }
                try await Self.send([.end(nil)], on: channel)
            case .adopted(let adopt):
                headers.remove(name: "Content-Length")
                let head = HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)
                if headOnly {
                    try await Self.send([.head(head), .end(nil)], on: channel)
                    answered()
                } else {
                    answered()
                    channel.eventLoop.execute { self.handOver(HTTPServerResponsePart.head(head), to: adopt, on: channel) }
                    return
                }
            }
        } catch {
            logger.debug("HTTP/1.1 answer not written", metadata: ["error": "\(error)"])
            channel.close(promise: nil)
            return
        }
        if !keepAlive { channel.close(promise: nil) }
    }

    /// On the connection's loop: writes the head of an adopted stream, then strips the pipeline to
    /// the connection's guard (TLS below it stays) and gives the connection to `adopt`. What the
    /// client sends from now on reaches no handler; its close closes the stream.
    func handOver(_ head: HTTPServerResponsePart, to adopt: @Sendable (HTTPStreamSink) -> Void, on channel: any Channel) {
        guard channel.isActive else { return }
        channel.writeAndFlush(head, promise: nil)
        let pipeline = channel.pipeline.syncOperations
        do {
            try pipeline.removeHandler(context: pipeline.context(handlerType: HTTP1RequestReader.self), promise: nil)
            try pipeline.removeHandler(context: pipeline.context(handlerType: HTTP1ExchangeTracker.self), promise: nil)
            try pipeline.removeHandler(context: pipeline.context(handlerType: HTTPServerPipelineHandler.self), promise: nil)
            try pipeline.removeHandler(context: pipeline.context(handlerType: NIOHTTPResponseHeadersValidator.self), promise: nil)
            try pipeline.removeHandler(context: pipeline.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self), promise: nil)
            try pipeline.removeHandler(context: pipeline.context(handlerType: HTTPResponseEncoder.self), promise: nil)
        } catch {
            logger.debug("HTTP/1.1 stream not handed over", metadata: ["error": "\(error)"])
            channel.close(promise: nil)
            return
        }
        adopt(HTTPStreamSink(channel: channel, framing: .chunked))
    }

    /// A request body over the limit: 413, then the connection is closed.
    func refuseLargeBody(_ request: PendingRequest, on channel: any Channel) {
        let answer = bodyTooLarge
        var headers = answer.headers
        headers.replaceOrAdd(name: "Content-Length", value: String(answer.bodyBytes.count))
        headers.replaceOrAdd(name: "Connection", value: "close")
        channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: answer.status, headers: headers)), promise: nil)
        channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: answer.bodyBytes))), promise: nil)
        channel.writeAndFlush(HTTPServerResponsePart.end(nil)).whenComplete { _ in channel.close(promise: nil) }
        metrics.answered(route: route(named: request.head), code: answer.status.code, after: ContinuousClock.now - request.started)
    }

    /// Writes `parts` in one flush on the connection's loop; returns once the last is written.
    static func send(_ parts: [HTTPServerResponsePart], on channel: any Channel) async throws {
        let written = channel.eventLoop.makePromise(of: Void.self)
        channel.eventLoop.execute {
            for part in parts.dropLast() { channel.write(part, promise: nil) }
            if let last = parts.last { channel.writeAndFlush(last, promise: written) } else { written.succeed() }
        }
        try await written.futureResult.get()
    }
}
