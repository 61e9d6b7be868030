import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A minimal HTTP/1.1 client for Ballot's own endpoints (`ballot status`, `ballot local`,
/// benchmarks and tests): one request per connection, plaintext or TLS, bounded by a timeout.
public enum HTTPClient {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    public enum Failure: Error, CustomStringConvertible {
        case timedOut(String)
        case connectionClosed(String)

        public var description: String {
            switch self {
            case .timedOut(let target): "no answer from \(target) in time"
            case .connectionClosed(let target): "\(target) closed the connection before answering"
            }
        }
    }

    /// Sends one plaintext request to `host:port` and reads the whole answer; never repeats a request.
    public static func request(
        _ method: HTTPMethod, host: String, port: Int, path: String, timeout: Duration = .seconds(2),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> Response {
        try await send(method, host: host, port: port, path: path, tls: nil, headers: [], body: [], timeout: timeout,
                       group: group)
    }

    /// Sends one request to `target` (with its TLS and bearer token, if any) and reads the whole
    /// answer; never repeats a request.
    public static func request(
        _ method: HTTPMethod, _ target: HTTPTarget, path: String, headers: [(String, String)] = [],
        body: [UInt8] = [], timeout: Duration = .seconds(2),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> Response {
        var headers = headers
        if let token = target.bearerToken { headers.append(("Authorization", "Bearer \(token)")) }
        let host = target.address.hostString
        return try await send(method, host: host, port: target.address.port, path: path, tls: target.tls,
                              headers: headers, body: body, timeout: timeout, group: group)
    }

    private static func send(
        _ method: HTTPMethod, host: String, port: Int, path: String, tls: HTTPClientTLS?, headers extra: [(String, String)],
        body: [UInt8], timeout: Duration, group: any EventLoopGroup
    ) async throws -> Response {
        let target = "\(tls == nil ? "http" : "https")://\(host):\(port)\(path)"
        let isName = host.utf8.contains { (0x61...0x7A).contains($0) || (0x41...0x5A).contains($0) } && !host.contains(":")
        return try await withThrowingTaskGroup(of: Response.self) { tasks in
            tasks.addTask {
                let channel = try await ClientBootstrap(group: group)
                    .connectTimeout(.nanoseconds(timeout.nanoseconds))
                    .connect(host: host, port: port) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            if let tls {
                                // SNI and name checks for a DNS name; an IP literal is checked against the
                                // certificate's IP addresses.
                                try channel.pipeline.syncOperations.addHandler(
                                    NIOSSLClientHandler(context: tls.context, serverHostname: isName ? host : nil))
                            }
                            try channel.pipeline.syncOperations.addHTTPClientHandlers()
                            return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                                wrappingChannelSynchronously: channel)
                        }
                    }
                return try await channel.executeThenClose { inbound, outbound in
                    var headers = HTTPHeaders()
                    headers.add(name: "Host", value: "\(host):\(port)")
                    headers.add(name: "Connection", value: "close")
                    headers.add(name: "Content-Length", value: String(body.count))
                    for (name, value) in extra { headers.add(name: name, value: value) }
                    // A request without a body is complete once the server has its head, so the server
                    // may answer and close before the rest of our write reaches the channel, which then
                    // fails with "I/O on closed channel" although the whole answer has arrived (it did,
                    // about once in a few hundred scrapes, when head and end went in two writes). So the
                    // request goes in one write, and a failed write still reads what came back.
                    let head = HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)
                    var writeFailure: (any Error)?
                    do {
                        var parts: [HTTPClientRequestPart] = [.head(head)]
                        if !body.isEmpty { parts.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
                        parts.append(.end(nil))
                        try await outbound.write(contentsOf: parts)
                    } catch {
                        writeFailure = error
                    }
                    var response = Response(status: 0, headers: [], body: [])
                    for try await part in inbound {
                        switch part {
                        case .head(let head):
                            response.status = Int(head.status.code)
                            response.headers = head.headers.map { ($0.name, $0.value) }
                        case .body(var buffer):
                            response.body += buffer.readBytes(length: buffer.readableBytes) ?? []
                        case .end:
                            return response
                        }
                    }
                    throw writeFailure ?? Failure.connectionClosed(target)
                }
            }
            tasks.addTask {
                try await Task.sleep(for: timeout)
                throw Failure.timedOut(target)
            }
            defer { tasks.cancelAll() }
            return try await tasks.next()!
        }
    }
}
