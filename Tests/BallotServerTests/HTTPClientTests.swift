import BallotClient
import BallotServer
import NIOCore
import NIOPosix
import Testing

/// Ballot's own HTTP client (`ballot status`, `ballot local`, the benchmarks).
@Suite struct HTTPClientTests {
    /// A server that answers and closes as soon as the first bytes of a request arrive. A request
    /// without a body is complete once the server has its head, so an answer and a close can
    /// overtake the end of the client's write, which then
    /// failed with "I/O on closed channel" (2–27 of 1,500 `ballot bench resources` scrapes before
    /// the fix, none in 9,000 after). The client must still return the answer that arrived.
    @Test func anAnswerThatOvertakesTheRequestIsStillReturned() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AnswerOnFirstBytes())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)
        var failures: [String] = []
        for index in 0..<1_000 {
            do {
                let response = try await HTTPClient.request(.GET, host: "127.0.0.1", port: port, path: "/metrics")
                if response.status != 200 || response.text != "early\n" {
                    failures.append("\(index): \(response.status) \(response.text)")
                }
            } catch {
                failures.append("\(index): \(error)")
            }
        }
        try await server.close()
        #expect(failures.isEmpty, "\(failures.count) of 1,000 requests failed: \(failures.prefix(3))")
    }
}

/// Writes a complete HTTP/1.1 answer as soon as any bytes arrive, then closes.
private final class AnswerOnFirstBytes: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private var answered = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        answered = true
        let answer = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nearly\n"
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: answer)), promise: nil)
        context.close(promise: nil)
    }
}
