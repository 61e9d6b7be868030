import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

#if canImport(Glibc)
import Glibc
#endif

extension HTTPClient {
    /// The status line and headers of a response whose body is read as it arrives.
    public struct StreamedResponseHead: Sendable {
        public var status: Int
        public var headers: [(String, String)]

        /// The first header called `name` (case-insensitive).
        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    /// The body of a streamed response, chunk by chunk as the server writes it.
    public struct StreamedBody {
        var iterator: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
        var ended = false

        /// The next chunk, or nil once the response is complete.
        public mutating func next() async throws -> [UInt8]? {
            while !ended {
                guard let part = try await iterator.next() else {
                    throw Failure.connectionClosed("the stream")
                }
                switch part {
                case .head: continue
                case .body(var buffer):
                    return buffer.readBytes(length: buffer.readableBytes) ?? []
                case .end:
                    ended = true
                }
            }
            return nil
        }
    }

    /// Why a streamed request could not be opened.
    public enum StreamFailure: Error, Sendable, CustomStringConvertible {
        /// Nothing listens at the address: the connection was refused.
        case refused(String)
        /// The connection ended before the response's head.
        case closedBeforeHead(String)

        public var description: String {
            switch self {
            case .refused(let target): "\(target) refused the connection (nothing listens there)"
            case .closedBeforeHead(let target): "\(target) closed the connection before answering"
            }
        }
    }

    /// Sends one request and hands its head and its body, as a stream, to `body`; the connection is
    /// closed when `body` returns or throws. For responses that do not end by themselves (an
    /// `/events` stream): cancel the calling task to stop reading.
    public static func withStreamedResponse<T>(
        _ method: HTTPMethod = .GET, host: String, port: Int, path: String, tls: HTTPClientTLS? = nil,
        headers extra: [(String, String)] = [], connectTimeout: Duration = .seconds(2),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        _ body: (StreamedResponseHead, inout StreamedBody) async throws -> T
    ) async throws -> T {
        let target = "\(tls == nil ? "http" : "https")://\(host):\(port)\(path)"
        let isName = host.utf8.contains { (0x61...0x7A).contains($0) || (0x41...0x5A).contains($0) } && !host.contains(":")
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.nanoseconds(connectTimeout.nanoseconds))
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            // SNI and name checks for a DNS name; an IP literal is checked against the
                            // certificate's IP addresses (as HTTPClient.request does).
                            try channel.pipeline.syncOperations.addHandler(
                                NIOSSLClientHandler(context: tls.context, serverHostname: isName ? host : nil))
                        }
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                            wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            if isConnectionRefused(error) { throw StreamFailure.refused(target) }
            throw error
        }
        return try await channel.executeThenClose { inbound, outbound in
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: "\(host):\(port)")
            headers.add(name: "Content-Length", value: "0")
            for (name, value) in extra { headers.add(name: name, value: value) }
            let head = HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)
            try await outbound.write(contentsOf: [.head(head), .end(nil)])
            var iterator = inbound.makeAsyncIterator()
            while true {
                guard let part = try await iterator.next() else { throw StreamFailure.closedBeforeHead(target) }
                guard case .head(let responseHead) = part else { continue }
                // 1xx answers are not the response.
                if responseHead.status.code < 200 { continue }
                let streamedHead = StreamedResponseHead(
                    status: Int(responseHead.status.code), headers: responseHead.headers.map { ($0.name, $0.value) })
                var streamedBody = StreamedBody(iterator: iterator)
                return try await body(streamedHead, &streamedBody)
            }
        }
    }

    /// Whether `error` says the connection was refused (ECONNREFUSED): nothing listens at the
    /// address, which on the same machine means the process is gone.
    static func isConnectionRefused(_ error: any Error) -> Bool {
        if let error = error as? IOError { return error.errnoCode == ECONNREFUSED }
        if let error = error as? NIOConnectionError {
            return !error.connectionErrors.isEmpty && error.connectionErrors.allSatisfy { isConnectionRefused($0.error) }
        }
        return false
    }
}
