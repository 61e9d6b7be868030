import Foundation
import NIOCore
import NIOHTTP1

/// One request as a route sees it, the same over HTTP/1.1 and HTTP/2.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    public var uri: String
    public var headers: HTTPHeaders
    /// The request body, at most ``HTTPLimits/maxBodySize`` bytes (a larger one is refused with 413
    /// before any route runs).
    public var body: [UInt8]
    public var connection: HTTPConnectionInfo

    public init(method: HTTPMethod, uri: String, headers: HTTPHeaders = [:], body: [UInt8] = [],
                connection: HTTPConnectionInfo = .init()) {
        self.method = method
        self.uri = uri
        self.headers = headers
        self.body = body
        self.connection = connection
    }

    public var path: Substring { uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" }

    /// The first value of the query parameter `name`, taken as written (no percent-decoding).
    public func queryValue(_ name: String) -> String? {
        guard let query = uri.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.first == Substring(name) { return parts.count > 1 ? String(parts[1]) : "" }
        }
        return nil
    }
}

/// What the server knows about the connection a request came on.
public struct HTTPConnectionInfo: Sendable, Hashable {
    public enum Listener: String, Sendable, Hashable {
        /// `--http`: reads, and changes unless there is an admin listener.
        case main
        /// `--admin-http`: every route, changes included.
        case admin
    }

    public enum Version: String, Sendable, Hashable {
        case http1 = "HTTP/1.1"
        case http2 = "HTTP/2"
    }

    public var listener: Listener = .main
    public var version: Version = .http1
    public var tls = false
    /// The client presented a certificate that chains to `--http-tls-client-ca`.
    public var verifiedClientCertificate = false

    public init(listener: Listener = .main, version: Version = .http1, tls: Bool = false,
                verifiedClientCertificate: Bool = false) {
        self.listener = listener
        self.version = version
        self.tls = tls
        self.verifiedClientCertificate = verifiedClientCertificate
    }
}

/// A route's answer: a status, headers, and either a whole body or a stream of body parts.
public struct HTTPResponse: Sendable {
    public enum Body: Sendable {
        /// Sent with `Content-Length`.
        case bytes([UInt8])
        /// Written part by part as `produce` calls the writer, until it returns; over HTTP/1.1 with
        /// chunked transfer encoding, over HTTP/2 as DATA frames. For Server-Sent Events and other
        /// answers that stay open. Not run for `HEAD`.
        case stream(@Sendable (HTTPBodyWriter) async throws -> Void)
    }

    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: Body

    public init(status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: Body) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public init(status: HTTPResponseStatus, contentType: String, body: [UInt8]) {
        self.init(status: status, headers: ["Content-Type": contentType], body: .bytes(body))
    }

    /// The bytes of a whole body; empty for a stream.
    public var bodyBytes: [UInt8] {
        if case .bytes(let bytes) = body { return bytes }
        return []
    }

    public static func text(_ status: HTTPResponseStatus, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "text/plain; charset=utf-8", body: Array((text + "\n").utf8))
    }

    public static func json(_ value: some Encodable, status: HTTPResponseStatus = .ok) -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let body = (try? encoder.encode(value)).map { Array($0) + [0x0A] } ?? Array("{}\n".utf8)
        return HTTPResponse(status: status, contentType: "application/json", body: body)
    }

    /// Every error the endpoint gives: `{"error": "…"}` with the status. Never echoes credentials.
    public static func error(_ status: HTTPResponseStatus, _ message: String) -> HTTPResponse {
        json(HTTPErrorBody(error: message), status: status)
    }
}

/// The JSON body of every error answer.
public struct HTTPErrorBody: Codable, Sendable, Equatable {
    public var error: String
}

/// Writes the parts of a streamed response body. Each write is flushed; a write waits while the
/// client is not reading (and the connection is closed if it stays that way for the idle timeout).
public struct HTTPBodyWriter: Sendable {
    let outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    /// The connection itself, for a stream fed from outside any task (``directSink``).
    let channel: any Channel

    public func write(_ bytes: [UInt8]) async throws {
        try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
    }

    public func write(_ text: String) async throws {
        try await outbound.write(.body(.byteBuffer(ByteBuffer(string: text))))
    }

    /// Writes buffers as they are, in one flush: a buffer shared by many streams is not copied
    /// (issue 15's `/events` encodes each event once for every subscriber).
    public func write(_ buffers: [ByteBuffer]) async throws {
        try await outbound.write(contentsOf: buffers.map { .body(.byteBuffer($0)) })
    }

    /// The connection, for writing the rest of the body directly on its event loop, with no task
    /// per write (issue 15: thousands of `/events` streams fed by one producer). Everything written
    /// through this writer before is written first. The producer must keep running until the
    /// stream is over (``HTTPStreamSink/closed``), and write nothing through this writer meanwhile.
    public var directSink: HTTPStreamSink { HTTPStreamSink(channel: channel) }
}

/// A response body written part by part straight into its connection, on its event loop (see
/// ``HTTPBodyWriter/directSink``). Writes are never awaited; a connection whose client does not
/// read fills NIO's write buffer, and ``isWritable`` turns false.
public struct HTTPStreamSink: Sendable {
    let channel: any Channel

    public var eventLoop: any EventLoop { channel.eventLoop }

    /// Whether the connection is open.
    public var isActive: Bool { channel.isActive }

    /// False once more than NIO's write-buffer high-water mark waits unsent.
    public var isWritable: Bool { channel.isWritable }

    /// Writes and flushes `buffers`; call on ``eventLoop``.
    public func writeOnLoop(_ buffers: [ByteBuffer]) {
        for buffer in buffers { channel.write(HTTPServerResponsePart.body(.byteBuffer(buffer)), promise: nil) }
        channel.flush()
    }

    public func close() { channel.close(promise: nil) }

    /// Completes when the connection closes.
    public var closed: EventLoopFuture<Void> { channel.closeFuture }
}
