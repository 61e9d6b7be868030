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

    /// Serves requests on one keep-alive connection until the client closes it.
    func serve(_ connection: Connection) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                for try await part in inbound {
                    switch part {
                    case .head(let requestHead):
                        head = requestHead
                    case .body:
                        break  // No route takes a body.
                    case .end:
                        guard let request = head else { continue }
                        head = nil
                        let response = await routes.respond(to: HTTPRequest(method: request.method, uri: request.uri))
                        try await write(response, keepAlive: request.isKeepAlive, to: outbound)
                        if !request.isKeepAlive { return }
                    }
                }
            }
        } catch {
            logger.debug("HTTP connection ended", metadata: ["error": "\(error)"])
        }
    }

    private func write(_ response: HTTPResponse, keepAlive: Bool, to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)))
        try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: response.body))))
        try await outbound.write(.end(nil))
    }
}

/// The parts of a request the routes look at.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    public var uri: String

    public var path: Substring { uri.split(separator: "?", maxSplits: 1).first ?? "" }

    public func queryValue(_ name: String) -> String? {
        guard let query = uri.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.first == Substring(name) { return parts.count > 1 ? String(parts[1]) : "" }
        }
        return nil
    }
}

public struct HTTPResponse: Sendable {
    public var status: HTTPResponseStatus
    public var contentType: String
    public var body: [UInt8]

    public static func text(_ status: HTTPResponseStatus, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "text/plain; charset=utf-8", body: Array((text + "\n").utf8))
    }
}
