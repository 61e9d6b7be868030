import NIOCore

/// The last handler of a connection's pipeline: hands each frame and the connection's end to the
/// client, on the client's own event loop (the channel lives there), without a hop.
final class ZooKeeperConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let client: ZooKeeperClient
    private let connection: UInt64
    /// The first reason the connection is ending, reported once when it is inactive.
    private var cause: ZooKeeperConnectionError?

    init(client: ZooKeeperClient, connection: UInt64) {
        self.client = client
        self.connection = connection
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        let connection = connection
        client.assumeIsolated { $0.connectionActive(connection, channel: channel) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let connection = connection
        client.assumeIsolated { $0.frameReceived(frame, on: connection) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if cause == nil {
            cause = (error as? ZooKeeperProtocolError).map { .protocolError($0) } ?? .closedByServer
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let cause = cause ?? .closedByServer
        let connection = connection
        client.assumeIsolated { $0.connectionEnded(connection, cause: cause) }
        context.fireChannelInactive()
    }
}
