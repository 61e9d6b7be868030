import BallotCore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The operator- and application-facing HTTP endpoint: health, readiness, leader, status, metrics
/// and leadership transfer. Each connection runs in its own task; none touches the election loop
/// except through short actor calls, and `/metrics` never does.
public final class HTTPEndpoint: Sendable {
    public typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
    public typealias Listener = NIOAsyncChannel<Connection, Never>

    let routes: HTTPRoutes
    let logger: Logger
    let group: any EventLoopGroup

    public init(routes: HTTPRoutes, logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.routes = routes
        self.logger = logger
        self.group = group
    }

    public func bind(host: String, port: Int) async throws -> Listener {
        do {
            return try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        return try Connection(wrappingChannelSynchronously: channel)
                    }
                }
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw TransportError.addressInUse(host: host, port: port, purpose: "HTTP endpoint")
        }
    }

    public func run(listener: Listener) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            try await listener.executeThenClose { connections in
                for try await connection in connections {
                    group.addTask { await self.serve(connection) }
                }
            }
        }
    }

    /// The largest request body any route takes (a small JSON document).
    static let maxBodySize = 64 * 1024

    /// Serves requests on one keep-alive connection until the client closes it.
    func serve(_ connection: Connection) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body: [UInt8] = []
                for try await part in inbound {
                    switch part {
                    case .head(let requestHead):
                        head = requestHead
                        body = []
                    case .body(let buffer):
                        guard head != nil else { continue }
                        guard body.count + buffer.readableBytes <= Self.maxBodySize else {
                            let refusal = HTTPResponse.error(
                                .payloadTooLarge, "the request body is larger than \(Self.maxBodySize) bytes")
                            try await write(refusal, headOnly: false, keepAlive: false, to: outbound,
                                            channel: connection.channel)
                            return
                        }
                        body.append(contentsOf: buffer.readableBytesView)
                    case .end:
                        guard let request = head else { continue }
                        head = nil
                        let (headOnly, keepAlive) = (request.method == .HEAD, request.isKeepAlive)
                        // Built and dropped before the answer is written: a stream may stay open for
                        // hours, and should not keep its request's headers and body alive meanwhile.
                        let response = await respond(to: request, body: body)
                        body = []
                        try await write(response, headOnly: headOnly, keepAlive: keepAlive, to: outbound,
                                        channel: connection.channel)
                        if !keepAlive { return }
                    }
                }
            }
        } catch {
            logger.debug("HTTP connection ended", metadata: ["error": "\(error)"])
        }
    }

    private func respond(to head: HTTPRequestHead, body: [UInt8]) async -> HTTPResponse {
        await routes.respond(to: HTTPRequest(method: head.method, uri: head.uri, headers: head.headers, body: body))
    }

    /// Writes an answer: a whole body with `Content-Length`, or a stream, chunked, as its producer
    /// writes it (Server-Sent Events, blocking queries).
    private func write(_ response: HTTPResponse, headOnly: Bool, keepAlive: Bool,
                       to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, channel: any Channel) async throws {
        var headers = response.headers
        headers.replaceOrAdd(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        switch response.body {
        case .bytes(let body):
            headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
            let head = HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))
            if headOnly || body.isEmpty {
                try await outbound.write(contentsOf: [head, .end(nil)])
            } else {
                try await outbound.write(contentsOf: [head, .body(.byteBuffer(ByteBuffer(bytes: body))), .end(nil)])
            }
        case .stream(let produce):
            headers.remove(name: "Content-Length")
            try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)))
            if !headOnly { try await produce(HTTPBodyWriter(outbound: outbound, channel: channel)) }
            try await outbound.write(.end(nil))
        }
    }
}
