import BallotHarness
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL

/// Times `GET` requests on one kept-alive connection, HTTP/1.1 or HTTP/2, plaintext (HTTP/2 by
/// prior knowledge) or TLS (ALPN): the way Prometheus scrapes a target. For `ballot bench http`;
/// curl cannot be used for every case (7.88 cannot reuse an h2c connection, curl#10634).
enum ScrapeClient {
    typealias Exchange = NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>

    /// The time (ms) of each of `count` requests for `path`, after one untimed request that
    /// opens the connection (and shakes hands), and the size of the last body.
    static func time(count: Int, port: Int, path: String, http2: Bool, tls: NIOSSLContext?) async throws -> ([Double], Int) {
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path,
                                   headers: ["Host": "127.0.0.1:\(port)", "User-Agent": "ballot-bench"])
        var times: [Double] = []
        var size = 0
        if http2 {
            let multiplexer = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: nil)) }
                        return try channel.pipeline.syncOperations.configureAsyncHTTP2Pipeline(mode: .client) { stream in
                            stream.eventLoop.makeSucceededVoidFuture()
                        }
                    }
                }
            for index in 0...count {
                let start = ContinuousClock.now
                let stream = try await multiplexer.openStream { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: tls == nil ? .http : .https))
                        return try Exchange(wrappingChannelSynchronously: channel)
                    }
                }
                size = try await stream.executeThenClose { inbound, outbound in
                    try await outbound.write(contentsOf: [.head(head), .end(nil)])
                    var iterator = inbound.makeAsyncIterator()
                    return try await readAnswer(&iterator)
                }
                if index > 0 { times.append((ContinuousClock.now - start).milliseconds) }
            }
        } else {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: nil)) }
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try Exchange(wrappingChannelSynchronously: channel)
                    }
                }
            try await channel.executeThenClose { inbound, outbound in
                var iterator = inbound.makeAsyncIterator()
                for index in 0...count {
                    let start = ContinuousClock.now
                    try await outbound.write(contentsOf: [.head(head), .end(nil)])
                    size = try await readAnswer(&iterator)
                    if index > 0 { times.append((ContinuousClock.now - start).milliseconds) }
                }
            }
        }
        return (times, size)
    }

    /// Reads one answer to its end; its body size. Anything but 200 is an error.
    private static func readAnswer(_ iterator: inout NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator) async throws -> Int {
        var size = 0
        var status: UInt = 0
        while let part = try await iterator.next() {
            switch part {
            case .head(let head): status = head.status.code
            case .body(let buffer): size += buffer.readableBytes
            case .end:
                guard status == 200 else { throw BenchmarkError("scrape answered \(status)") }
                return size
            }
        }
        throw BenchmarkError("the node closed the connection mid-answer")
    }
}
