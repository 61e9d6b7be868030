import Logging
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import Prometheus

/// The node's HTTP surface: one or two listeners (`--http`, and `--admin-http` for the routes that
/// change the node), each plaintext or TLS, each speaking HTTP/1.1 and HTTP/2 (by ALPN over TLS,
/// by prior knowledge in plaintext), each under the same ``HTTPLimits``.
///
/// Every request is answered in a task of its own (an HTTP/2 connection is a task, each of its
/// streams a child task; an HTTP/1.1 request gets a task when it has arrived whole, see
/// ``HTTP1RequestReader``), so a route that waits never holds an event loop, and an HTTP/1.1
/// connection waiting for its next request — or carrying an adopted stream such as `/events` —
/// costs no task at all. Nothing here touches the election loop except through the routes' short
/// actor calls; `/metrics` never does.
public final class HTTPEndpoint: Sendable {
    /// A bound listener, ready for ``run(_:)``.
    public struct Listener: Sendable {
        let channel: NIOAsyncChannel<AcceptedConnection, Never>
        public let role: HTTPConnectionInfo.Listener
        let limiter: ConnectionLimiter

        /// The port actually bound (useful after binding port 0).
        public var port: Int? { channel.channel.localAddress?.port }
    }

    /// A connection as the acceptor hands it over: its channel, and its protocol once chosen.
    struct AcceptedConnection: Sendable {
        let channel: any Channel
        let connection: EventLoopFuture<HTTPConnection>
    }

    let router: HTTPRouter
    let access: HTTPAccessPolicy
    let limits: HTTPLimits
    let tls: HTTPTLSContexts?
    /// With an admin listener, routes that change the node are served there only.
    let hasAdminListener: Bool
    let metrics: HTTPMetrics
    let logger: Logger
    let group: any EventLoopGroup

    /// - Parameters:
    ///   - registry: where the request and connection series go (the node's metrics registry).
    ///   - tls: the certificate files; nil serves plaintext.
    public init(
        router: HTTPRouter, access: HTTPAccessPolicy = .open, limits: HTTPLimits = HTTPLimits(),
        tls: HTTPTLSFiles? = nil, hasAdminListener: Bool = false, registry: PrometheusCollectorRegistry,
        logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws(HTTPSetupError) {
        self.router = router
        self.limits = limits
        self.tls = try tls.map { files throws(HTTPSetupError) in try HTTPTLSContexts(files: files) }
        var access = access
        access.acceptsClientCertificates = self.tls?.verifiesClientCertificates ?? false
        self.access = access
        self.hasAdminListener = hasAdminListener
        metrics = HTTPMetrics(registry: registry, routeNames: router.routeNames)
        self.logger = logger
        self.group = group
    }

    public func bind(host: String, port: Int, role: HTTPConnectionInfo.Listener = .main) async throws -> Listener {
        let limiter = ConnectionLimiter(capacity: limits.maxConnections, metrics: metrics)
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                // Requests here are small; NIO keeps a connection's last receive buffer for its next
                // read, so a smaller first buffer (2 KiB by default; it grows for larger reads) is
                // memory saved on every open connection, idle and `/events` ones included.
                .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65_536))
                .bind(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try self.initialize(channel, role: role, limiter: limiter)
                    }
                }
            return Listener(channel: channel, role: role, limiter: limiter)
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw TransportError.addressInUse(host: host, port: port,
                                              purpose: role == .main ? "HTTP endpoint" : "admin HTTP endpoint")
        }
    }

    /// Accepts and serves connections until the task is cancelled.
    public func run(_ listener: Listener) async throws {
        // HTTP/1.1 connections have no task that cancellation would reach: close them here.
        defer { listener.limiter.closeAll() }
        try await withThrowingDiscardingTaskGroup { group in
            try await listener.channel.executeThenClose { connections in
                for try await accepted in connections {
                    group.addTask { await self.serve(accepted) }
                }
            }
        }
    }

    // MARK: Connections

    /// Builds a new connection's pipeline on its event loop: TLS, the guard of its limits, and the
    /// protocol selector that completes it; or, over the cap, the 503 refusal.
    private func initialize(_ channel: any Channel, role: HTTPConnectionInfo.Listener,
                            limiter: ConnectionLimiter) throws -> AcceptedConnection {
        let pipeline = channel.pipeline.syncOperations
        guard let id = limiter.admit(channel) else {
            if let tls { try pipeline.addHandler(NIOSSLServerHandler(context: tls.refusing)) }
            try pipeline.addHandler(OverCapacityAnswer(tls: tls != nil, timeout: limits.requestTimeout))
            return AcceptedConnection(channel: channel, connection: channel.eventLoop.makeFailedFuture(ConnectionEndedEarly()))
        }
        if let tls { try pipeline.addHandler(NIOSSLServerHandler(context: tls.serving)) }
        let connectionGuard = ConnectionGuard(limits: limits, limiter: limiter, id: id, metrics: metrics)
        try pipeline.addHandler(connectionGuard)
        let decision = channel.eventLoop.makePromise(of: HTTPConnection.self)
        let selector = HTTPProtocolSelector(
            tls: tls != nil, verifiesClientCertificates: tls?.verifiesClientCertificates ?? false, decision: decision
        ) { channel, version, verified in
            let info = HTTPConnectionInfo(listener: role, version: version, tls: self.tls != nil,
                                          verifiedClientCertificate: verified)
            self.metrics.acceptedConnection(version)
            switch version {
            case .http1: return try self.configureHTTP1(channel, info: info, connectionGuard: connectionGuard)
            case .http2: return try self.configureHTTP2(channel, info: info, connectionGuard: connectionGuard)
            }
        }
        try pipeline.addHandler(selector)
        return AcceptedConnection(channel: channel, connection: decision.futureResult)
    }

    private func configureHTTP1(_ channel: any Channel, info: HTTPConnectionInfo,
                                connectionGuard: ConnectionGuard) throws -> HTTPConnection {
        var decoderLimits = NIOHTTPDecoderLimitConfiguration()
        decoderLimits.maxHeaderListSize = limits.maxHeadSize
        decoderLimits.maxHeaderFieldSize = limits.maxHeadSize
        let pipeline = channel.pipeline.syncOperations
        try pipeline.configureHTTPServerPipeline(
            withErrorHandling: false, withEncoderConfiguration: .init(), withDecoderLimitConfiguration: decoderLimits)
        try pipeline.addHandler(HTTP1ExchangeTracker(connectionGuard: connectionGuard, metrics: metrics))
        try pipeline.addHandler(HTTP1RequestReader(endpoint: self, info: info))
        return .http1(info)
    }

    private func configureHTTP2(_ channel: any Channel, info: HTTPConnectionInfo,
                                connectionGuard: ConnectionGuard) throws -> HTTPConnection {
        connectionGuard.switchToHTTP2()
        var configuration = NIOHTTP2Handler.Configuration()
        configuration.connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: limits.maxStreams),
            HTTP2Setting(parameter: .maxHeaderListSize, value: limits.maxHeadSize),
        ]
        let counter = HTTP2StreamCounter(connectionGuard: NIOLoopBound(connectionGuard, eventLoop: channel.eventLoop))
        let requestTimeout = limits.requestTimeout
        let metrics = self.metrics
        let multiplexer = try channel.pipeline.syncOperations.configureAsyncHTTP2Pipeline(
            mode: .server, streamDelegate: counter, configuration: configuration
        ) { stream in
            stream.eventLoop.makeCompletedFuture {
                try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTP1ServerCodec())
                try stream.pipeline.syncOperations.addHandler(HTTP2StreamDeadline(timeout: requestTimeout, metrics: metrics))
                return try HTTPExchangeChannel(wrappingChannelSynchronously: stream)
            }
        }
        return .http2(channel, multiplexer, info)
    }

    /// Serves one connection until it closes: each of its streams in a child task (HTTP/2). An
    /// HTTP/1.1 connection needs no task once its protocol is chosen (``HTTP1RequestReader``).
    private func serve(_ accepted: AcceptedConnection) async {
        await withTaskCancellationHandler {
            guard let connection = try? await accepted.connection.get() else { return }
            switch connection {
            case .http1:
                return
            case .http2(_, let multiplexer, let info):
                do {
                    try await withThrowingDiscardingTaskGroup { streams in
                        for try await stream in multiplexer.inbound {
                            streams.addTask { await self.serveExchanges(on: stream, info) }
                        }
                    }
                } catch {
                    logger.debug("HTTP/2 connection ended", metadata: ["error": "\(error)"])
                }
                accepted.channel.close(promise: nil)
            }
        } onCancel: {
            accepted.channel.close(promise: nil)
        }
    }

    /// A request being received.
    struct PendingRequest {
        var head: HTTPRequestHead
        var body: [UInt8] = []
        let started = ContinuousClock.now

        /// Whether `count` more body bytes keep the body within `limit` (else the answer is 413).
        func fits(more count: Int, limit: Int) -> Bool { body.count + count <= limit }
    }

    /// The answer to a request whose body is over the limit, on HTTP/1.1 and HTTP/2 alike.
    var bodyTooLarge: HTTPResponse {
        HTTPResponse.error(.payloadTooLarge, "the request body is larger than \(limits.maxBodySize) bytes")
    }

    /// Answers the one request of an HTTP/2 stream.
    private func serveExchanges(on channel: HTTPExchangeChannel, _ info: HTTPConnectionInfo) async {
        do {
            try await channel.executeThenClose { inbound, outbound in
                var pending: PendingRequest?
                for try await part in inbound {
                    switch part {
                    case .head(let head):
                        pending = PendingRequest(head: head)
                    case .body(let buffer):
                        guard var request = pending else { continue }
                        pending = nil  // Keeps the body uniquely referenced while it grows.
                        guard request.fits(more: buffer.readableBytes, limit: limits.maxBodySize) else {
                            let answer = bodyTooLarge
                            try await write(answer, headOnly: false, outbound: outbound, channel: channel.channel)
                            metrics.answered(route: route(named: request.head), code: answer.status.code,
                                             after: ContinuousClock.now - request.started)
                            return
                        }
                        request.body.append(contentsOf: buffer.readableBytesView)
                        pending = request
                    case .end:
                        guard let request = pending else { continue }
                        pending = nil
                        try await exchange(request, info: info, outbound: outbound, channel: channel.channel)
                        return
                    }
                }
            }
        } catch {
            logger.debug("HTTP exchange ended", metadata: ["error": "\(error)"])
        }
    }

    /// Routes one whole request of an HTTP/2 stream, checks its access, runs its handler and writes
    /// the answer.
    private func exchange(_ request: PendingRequest, info: HTTPConnectionInfo,
                          outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, channel: any Channel) async throws {
        let (name, response, headOnly) = await answer(request.message(info))
        let finished = try await write(response, headOnly: headOnly, outbound: outbound, channel: channel) {
            // Streams are timed to their head: how long one stays open is the client's choice.
            self.metrics.answered(route: name, code: response.status.code, after: ContinuousClock.now - request.started)
        }
        if finished {
            metrics.answered(route: name, code: response.status.code, after: ContinuousClock.now - request.started)
        }
    }

    /// The route's name (for metrics), the answer, and whether to leave out its body (`HEAD`).
    func answer(_ request: HTTPRequest) async -> (route: String, response: HTTPResponse, headOnly: Bool) {
        switch router.match(method: request.method, path: request.path) {
        case .notFound:
            return (HTTPRouter.unmatchedRouteName,
                    .error(.notFound, "no such path: \(request.path); this node serves \(router.summary)"), false)
        case .methodNotAllowed(let route):
            var response = HTTPResponse.error(
                .methodNotAllowed, "\(request.method.rawValue) is not allowed on \(route.path); use \(route.allowHeader)")
            response.headers.add(name: "Allow", value: route.allowHeader)
            return (route.name, response, false)
        case .route(let route, let headOnly):
            if route.access == .change, hasAdminListener, request.connection.listener == .main {
                return (route.name, .error(
                    .notFound, "\(request.method.rawValue) \(route.path) is served on this node's admin listener (--admin-http) only"),
                    false)
            }
            switch access.decide(route.access, headers: request.headers, connection: request.connection) {
            case .allowed:
                return (route.name, await route.handler(request), headOnly)
            case .missingCredential:
                var response = HTTPResponse.error(
                    .unauthorized, "\(route.path) needs a credential: send Authorization: Bearer <token> (the token of --http-token-file)"
                        + (access.acceptsClientCertificates ? " or a client certificate from the client CA" : ""))
                response.headers.add(name: "WWW-Authenticate", value: HTTPAccessPolicy.challenge)
                return (route.name, response, headOnly)
            case .wrongCredential:
                return (route.name, .error(.forbidden, "the credential sent for \(route.path) is not accepted"), headOnly)
            }
        }
    }

    /// The route a request names, for the metrics of a request refused before routing.
    func route(named head: HTTPRequestHead) -> String {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        if case .route(let route, _) = router.match(method: .GET, path: path) { return route.name }
        if case .methodNotAllowed(let route) = router.match(method: .GET, path: path) { return route.name }
        return HTTPRouter.unmatchedRouteName
    }

    /// Writes an answer on an HTTP/2 stream: a whole body with `Content-Length`, or a stream (DATA
    /// frames) as its producer writes it. Returns false for a stream, after calling
    /// `streamStarted` once its head is written.
    @discardableResult
    private func write(
        _ response: HTTPResponse, headOnly: Bool, outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>,
        channel: any Channel, streamStarted: () -> Void = {}
    ) async throws -> Bool {
        var headers = response.headers
        let body: [UInt8]
        switch response.body {
        case .bytes(let bytes):
            body = bytes
        case .stream(let produce):
            headers.remove(name: "Content-Length")
            try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)))
            streamStarted()
            if !headOnly { try await produce(HTTPBodyWriter { parts in try await outbound.write(contentsOf: parts) }) }
            try await outbound.write(.end(nil))
            return false
        case .adopted(let adopt):
            headers.remove(name: "Content-Length")
            try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)))
            streamStarted()
            if headOnly {
                try await outbound.write(.end(nil))
            } else {
                // The head is queued on the loop before the sink is handed over, so it goes first.
                let sink = HTTPStreamSink(channel: channel, framing: .parts)
                channel.eventLoop.execute { adopt(sink) }
                try? await channel.closeFuture.get()
            }
            return false
        }
        headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
        let head = HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))
        if headOnly || body.isEmpty {
            try await outbound.write(contentsOf: [head, .end(nil)])
        } else {
            try await outbound.write(contentsOf: [head, .body(.byteBuffer(ByteBuffer(bytes: body))), .end(nil)])
        }
        return true
    }
}

extension HTTPEndpoint.PendingRequest {
    /// The request as routes see it.
    func message(_ info: HTTPConnectionInfo) -> HTTPRequest {
        HTTPRequest(method: head.method, uri: head.uri, headers: head.headers, body: body, connection: info)
    }
}
