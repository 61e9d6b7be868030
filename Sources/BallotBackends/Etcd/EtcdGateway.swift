import Glibc
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// An etcd cluster's v3 JSON gateway (grpc-gateway on the client port), over HTTP/1.1 and, for
/// `https://` endpoints, TLS — the transport of the etcd backend.
///
/// One endpoint is in use at a time; a request that fails because the member is unreachable or
/// unavailable moves to the next (``endpointFailed(_:)``), and the streams open on the failed one
/// are ended so their owners reopen them on the next. Unary requests reuse keep-alive connections
/// (a keep-alive every TTL/3 costs no handshake); each stream (a watch) has its own connection.
///
/// The actor runs on one event loop, its connections' loop, so every response part reaches it
/// without a thread switch.
actor EtcdGateway {
    nonisolated let eventLoop: any EventLoop
    let endpoints: [EtcdEndpoint]
    let limits: GatewayLimits
    let logger: Logger
    private let tls: NIOSSLContext?
    /// The endpoint in use.
    private(set) var current = 0
    private var connections: [UInt64: GatewayConnection] = [:]
    private var idle: [UInt64] = []
    private var nextID: UInt64 = 0
    private var isShutDown = false
    /// The auth token sent with every request, once authenticated.
    var token: String?

    init(endpoints: [EtcdEndpoint], tls: EtcdTLSFiles, limits: GatewayLimits = GatewayLimits(),
         eventLoop: any EventLoop, logger: Logger) throws(EtcdConfigurationError) {
        precondition(!endpoints.isEmpty, "an etcd gateway needs an endpoint")
        self.endpoints = endpoints
        self.limits = limits
        self.eventLoop = eventLoop
        self.logger = logger
        if endpoints.contains(where: \.usesTLS) {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            if let ca = tls.caFile {
                guard let certificates = try? NIOSSLCertificate.fromPEMFile(ca), !certificates.isEmpty else {
                    throw .unreadableTLSFile(path: ca, "no PEM certificate could be read from it")
                }
                configuration.trustRoots = .certificates(certificates)
            }
            if let certificate = tls.certificateFile, let key = tls.keyFile {
                guard let chain = try? NIOSSLCertificate.fromPEMFile(certificate), !chain.isEmpty else {
                    throw .unreadableTLSFile(path: certificate, "no PEM certificate could be read from it")
                }
                guard let privateKey = try? NIOSSLPrivateKey(file: key, format: .pem) else {
                    throw .unreadableTLSFile(path: key, "no PEM private key could be read from it")
                }
                configuration.certificateChain = chain.map { .certificate($0) }
                configuration.privateKey = .privateKey(privateKey)
            }
            do {
                self.tls = try NIOSSLContext(configuration: configuration)
            } catch {
                throw .unreadableTLSFile(path: tls.caFile ?? tls.certificateFile ?? "-", "\(error)")
            }
        } else {
            self.tls = nil
        }
    }

    nonisolated var unownedExecutor: UnownedSerialExecutor {
        eventLoop.executor.asUnownedSerialExecutor()
    }

    var currentEndpoint: EtcdEndpoint { endpoints[current] }

    // MARK: Requests

    /// POSTs `body` (JSON) to `path` and returns the whole answer, within `timeout`.
    func unary(_ path: String, _ body: [UInt8], timeout: Duration) async throws(GatewayError) -> GatewayResponse {
        let connection = try await connection(reusable: true, timeout: timeout, path: path)
        let result: Result<GatewayResponse, GatewayError> = await withCheckedContinuation { continuation in
            let id = connection.id
            connection.begin(.unary(continuation), path: path, body: body, headers: headers(stream: false),
                             timeout: timeout, on: eventLoop) { self.assumeIsolated { $0.timedOut(id) } }
        }
        let response = try result.get()
        if response.keepAlive, connection.isOpen, !isShutDown, connection.endpoint == current {
            connection.exchange = .idle
            idle.append(connection.id)
        } else {
            close(connection.id)
        }
        return response
    }

    /// POSTs `body` to a streaming `path` (a watch) and returns its messages, one JSON document each,
    /// as they come. The head must arrive within `timeout`; after that the stream may be silent for
    /// as long as nothing happens. It ends when the server ends it, the connection drops, ``cancel(_:)``
    /// is called, or the endpoint is given up.
    func stream(_ path: String, _ body: [UInt8], timeout: Duration) async throws(GatewayError) -> GatewayStream {
        let connection = try await connection(reusable: false, timeout: timeout, path: path)
        let (messages, sink) = AsyncThrowingStream.makeStream(of: [UInt8].self, throwing: (any Error).self)
        let opened: Result<Void, GatewayError> = await withCheckedContinuation { continuation in
            let id = connection.id
            connection.begin(.stream(opened: continuation, sink: sink), path: path, body: body,
                             headers: headers(stream: true), timeout: timeout, on: eventLoop) {
                self.assumeIsolated { $0.timedOut(id) }
            }
        }
        try opened.get()
        return GatewayStream(id: connection.id, endpoint: connection.endpoint, messages: messages)
    }

    /// Ends a stream from this side.
    func cancel(_ stream: GatewayStream) {
        close(stream.id)
    }

    /// The endpoint `index` failed a request: use the next one from now on, and end every
    /// connection to the failed one (its streams end, and their owners reopen them).
    func endpointFailed(_ index: Int) {
        guard index == current else { return }
        current = (current + 1) % endpoints.count
        logger.info("using the next etcd endpoint", metadata: ["endpoint": "\(endpoints[current])"])
        for (id, connection) in connections where connection.endpoint == index { close(id) }
    }

    /// Closes every connection; later requests fail with ``GatewayError/shutDown``.
    func shutDown() {
        isShutDown = true
        for id in Array(connections.keys) { close(id) }
    }

    // MARK: Connections

    private func headers(stream: Bool) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: endpoints[current].host)
        headers.add(name: "Content-Type", value: "application/json")
        if let token { headers.add(name: "Authorization", value: token) }
        // A watch on a member cut off from its cluster's leader would just go quiet; with this
        // metadata etcd cancels it instead, so the stream ends and is reopened elsewhere.
        if stream { headers.add(name: "Grpc-Metadata-hasleader", value: "true") }
        return headers
    }

    /// An idle keep-alive connection to the current endpoint, or a new one.
    private func connection(reusable: Bool, timeout: Duration, path: String) async throws(GatewayError) -> GatewayConnection {
        guard !isShutDown else { throw .shutDown }
        if reusable {
            while let id = idle.popLast() {
                if let connection = connections[id], connection.isOpen, connection.endpoint == current { return connection }
                close(id)
            }
        }
        nextID += 1
        let id = nextID
        let index = current
        let endpoint = endpoints[index]
        let connection = GatewayConnection(id: id, endpoint: index, name: endpoint.description, limits: limits)
        connections[id] = connection
        let tls = self.tls
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.nanoseconds(max(timeout, .milliseconds(1)).nanosecondsForNIO))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handlers = channel.pipeline.syncOperations
                    if endpoint.usesTLS, let tls {
                        let hostname = endpoint.host.isIPAddress ? nil : endpoint.host
                        try handlers.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: hostname))
                    }
                    try handlers.addHTTPClientHandlers()
                    try handlers.addHandler(GatewayResponseHandler(gateway: self, connection: id))
                }
            }
        do {
            let channel = try await bootstrap.connect(host: endpoint.host, port: endpoint.port).get()
            guard connections[id] != nil else {
                channel.close(promise: nil)
                throw GatewayError.closed(endpoint: endpoint.description)
            }
            connection.channel = channel
            return connection
        } catch let error as GatewayError {
            connections[id] = nil
            throw error
        } catch {
            connections[id] = nil
            throw .connectFailed(endpoint: endpoint.description, "\(error)")
        }
    }

    func timedOut(_ id: UInt64) {
        guard let connection = connections[id] else { return }
        connection.fail(.timedOut(endpoint: connection.name, path: connection.path))
        close(id)
    }

    private func close(_ id: UInt64) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        idle.removeAll { $0 == id }
        connection.fail(.closed(endpoint: connection.name))
        connection.channel?.close(promise: nil)
        connection.channel = nil
    }

    // MARK: From the handler

    func received(_ part: HTTPClientResponsePart, on id: UInt64) {
        guard let connection = connections[id] else { return }
        if let error = connection.received(part) {
            connection.fail(error)
            close(id)
        }
    }

    func ended(_ id: UInt64, error: (any Error)?) {
        guard let connection = connections[id] else { return }
        if let error, error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            connection.fail(.tls(endpoint: connection.name, "\(error)"))
        } else {
            connection.fail(.closed(endpoint: connection.name))
        }
        close(id)
    }
}

/// A stream of messages from the gateway: one JSON document per message (`{"result": …}`).
struct GatewayStream: Sendable {
    let id: UInt64
    /// The index of the endpoint it was opened on.
    let endpoint: Int
    let messages: AsyncThrowingStream<[UInt8], any Error>
}

/// A complete answer to a unary request.
struct GatewayResponse: Sendable {
    var status: Int
    var body: [UInt8]
    var keepAlive: Bool
}

/// The last handler of a gateway connection: hands every response part, and the connection's end,
/// to the gateway on its own loop.
final class GatewayResponseHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let gateway: EtcdGateway
    private let connection: UInt64
    private var error: (any Error)?

    init(gateway: EtcdGateway, connection: UInt64) {
        self.gateway = gateway
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        let connection = connection
        gateway.assumeIsolated { $0.received(part, on: connection) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if self.error == nil { self.error = error }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let connection = connection
        let error = self.error.map { SendableError($0) }
        gateway.assumeIsolated { $0.ended(connection, error: error?.error) }
        context.fireChannelInactive()
    }
}

/// An error carried across the handler's isolation boundary: only its text and type are used.
private struct SendableError: @unchecked Sendable {
    let error: any Error
    init(_ error: any Error) { self.error = error }
}

extension Duration {
    /// Whole nanoseconds for NIO, clamped.
    var nanosecondsForNIO: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled &+ attoseconds / 1_000_000_000
    }
}

extension String {
    /// An IPv4 or IPv6 literal (TLS sends no server name for these; the certificate must name the IP).
    var isIPAddress: Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return withCString { inet_pton(AF_INET, $0, &v4) == 1 || inet_pton(AF_INET6, $0, &v6) == 1 }
    }
}
