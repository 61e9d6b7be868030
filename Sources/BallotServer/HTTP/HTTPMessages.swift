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
        /// answers that stay open, each with a task of its own. Not run for `HEAD`.
        case stream(@Sendable (HTTPBodyWriter) async throws -> Void)
        /// A stream with no task of its own (issue 15: thousands of `/events` streams fed by one
        /// producer). Once the head is written, `adopt` is called on the connection's event loop
        /// with a sink, writes the body into it from then on, and closes it when done; the stream
        /// ends when either side closes. Over HTTP/1.1 the connection stops being an HTTP exchange:
        /// its codec is removed (chunks are written pre-framed), no further request is read on it,
        /// and its limits (connection cap, stalled client) still apply. Over HTTP/2 the stream's
        /// task waits until the stream closes. Not called for `HEAD`.
        case adopted(@Sendable (HTTPStreamSink) -> Void)
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
    /// Writes response parts on the connection (HTTP/1.1) or stream (HTTP/2), flushed, and returns
    /// once they are written.
    let send: @Sendable ([HTTPServerResponsePart]) async throws -> Void

    public func write(_ bytes: [UInt8]) async throws {
        try await send([.body(.byteBuffer(ByteBuffer(bytes: bytes)))])
    }

    public func write(_ text: String) async throws {
        try await send([.body(.byteBuffer(ByteBuffer(string: text)))])
    }

    /// Writes buffers as they are, in one flush (a buffer shared by many streams is not copied).
    public func write(_ buffers: [ByteBuffer]) async throws {
        try await send(buffers.map { .body(.byteBuffer($0)) })
    }
}

/// One part of a streamed body, encoded once for every stream it goes to: its bytes, and the same
/// bytes framed as one HTTP/1.1 chunk, for connections that no longer have an HTTP codec
/// (``HTTPResponse/Body/adopted(_:)``). Writing it costs no copy and no encoding per stream.
public struct StreamChunk: Sendable {
    public let payload: ByteBuffer
    /// `<size in hex>\r\n<payload>\r\n`.
    let framed: ByteBuffer

    public init(_ payload: ByteBuffer) {
        self.payload = payload
        var framed = ByteBuffer()
        framed.reserveCapacity(payload.readableBytes + 12)
        framed.writeString(String(payload.readableBytes, radix: 16))
        framed.writeStaticString("\r\n")
        framed.writeImmutableBuffer(payload)
        framed.writeStaticString("\r\n")
        self.framed = framed
    }

    public init(_ text: String) { self.init(ByteBuffer(string: text)) }
}

/// A response body written straight into its connection, on its event loop, by whoever adopted it
/// (``HTTPResponse/Body/adopted(_:)``): no task and no async writer per stream. Writes are never
/// awaited; a connection whose client does not read fills NIO's write buffer, and ``isWritable``
/// turns false.
public struct HTTPStreamSink: Sendable {
    /// How a chunk goes on the wire.
    enum Framing: Sendable {
        /// An HTTP/1.1 connection whose codec was removed: the chunk's pre-framed bytes.
        case chunked
        /// A channel that still speaks in response parts (an HTTP/2 stream, a test's channel).
        case parts
    }

    let channel: any Channel
    let framing: Framing

    init(channel: any Channel, framing: Framing) {
        self.channel = channel
        self.framing = framing
    }

    public var eventLoop: any EventLoop { channel.eventLoop }

    /// Whether the connection is open.
    public var isActive: Bool { channel.isActive }

    /// False once more than NIO's write-buffer high-water mark waits unsent.
    public var isWritable: Bool { channel.isWritable }

    /// Writes and flushes `chunks`; call on ``eventLoop``.
    public func writeOnLoop(_ chunks: [StreamChunk]) {
        switch framing {
        case .chunked:
            for chunk in chunks { channel.write(chunk.framed, promise: nil) }
        case .parts:
            for chunk in chunks { channel.write(HTTPServerResponsePart.body(.byteBuffer(chunk.payload)), promise: nil) }
        }
        channel.flush()
    }

    public func close() { channel.close(promise: nil) }

    /// Completes when the connection closes.
    public var closed: EventLoopFuture<Void> { channel.closeFuture }
}
