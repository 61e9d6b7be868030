import BallotRuntime
import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal `GET /events` subscriber on NIO for benchmarks: it stamps every Server-Sent Event
/// with `CLOCK_MONOTONIC` the moment its bytes are read, and hands it over. Thousands can run in
/// one process (one channel each, no task per subscriber).
public enum EventStreamProbe {
    /// One event as received.
    public struct Event: Sendable {
        public var name: String
        /// The `data:` line: one JSON object.
        public var data: String
        public var receivedAt: UInt64
    }

    /// Connects to `host:port`, asks for `/events`, and calls `onEvent` (on the channel's event
    /// loop) for every event. Close the returned channel to end the subscription.
    public static func subscribe(
        host: String, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onEvent: @escaping @Sendable (Event) -> Void
    ) async throws -> any Channel {
        try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(Reader(host: host, onEvent: onEvent))
                }
            }
            .connect(host: host, port: port).get()
    }

    final class Reader: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart
        typealias OutboundOut = HTTPClientRequestPart

        let host: String
        let onEvent: @Sendable (Event) -> Void
        private var pending: [UInt8] = []
        private var name = ""
        private var data = ""

        init(host: String, onEvent: @escaping @Sendable (Event) -> Void) {
            self.host = host
            self.onEvent = onEvent
        }

        func channelActive(context: ChannelHandlerContext) {
            var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/events")
            head.headers.add(name: "Host", value: host)
            head.headers.add(name: "Accept", value: "text/event-stream")
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data part: NIOAny) {
            guard case .body(let buffer) = unwrapInboundIn(part) else { return }
            let at = SystemMonotonicClock.now.nanoseconds
            pending.append(contentsOf: buffer.readableBytesView)
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                if line.isEmpty {
                    if !name.isEmpty { onEvent(Event(name: name, data: data, receivedAt: at)) }
                    name = ""
                    data = ""
                } else if line.hasPrefix("event: ") {
                    name = String(line.dropFirst(7))
                } else if line.hasPrefix("data: ") {
                    data = String(line.dropFirst(6))
                }
            }
        }
    }
}
