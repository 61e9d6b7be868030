import NIOCore
import NIOPosix

/// A TCP relay on 127.0.0.1 in front of one server, that can be cut: while partitioned it drops
/// every byte both ways and accepts new connections without ever relaying them, as a network
/// partition looks to both ends (silence, no reset). Used to let a session expire.
final class LoopbackProxy: Sendable {
    private let listener: any Channel
    private let state: Locked<State>

    struct State {
        var partitioned = false
        var connections: [any Channel] = []
    }

    var port: Int { listener.localAddress?.port ?? 0 }

    private init(listener: any Channel, state: Locked<State>) {
        self.listener = listener
        self.state = state
    }

    static func start(to targetPort: Int) async throws -> LoopbackProxy {
        let state = Locked(State())
        let isPartitioned: @Sendable () -> Bool = { state.withLock { $0.partitioned } }
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                state.withLock { $0.connections.append(inbound) }
                return inbound.eventLoop.makeCompletedFuture {
                    try inbound.pipeline.syncOperations.addHandler(
                        RelayHandler(isPartitioned: isPartitioned, targetPort: targetPort, register: { channel in
                            state.withLock { $0.connections.append(channel) }
                        }))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return LoopbackProxy(listener: listener, state: state)
    }

    /// From now on, nothing gets through, in either direction, on old or new connections.
    func partition() { state.withLock { $0.partitioned = true } }

    /// Closes every connection (the ends gave up on them during the partition) and relays again.
    func heal() {
        let connections = state.withLock { state in
            state.partitioned = false
            defer { state.connections = [] }
            return state.connections
        }
        for connection in connections { connection.close(promise: nil) }
    }

    func stop() async {
        heal()
        try? await listener.close()
    }
}

/// One side of a relayed connection. The accepting side dials the target on its own event loop
/// and starts reading once both sides are up; each side writes what it reads to the other.
private final class RelayHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let isPartitioned: @Sendable () -> Bool
    let targetPort: Int?
    let register: @Sendable (any Channel) -> Void
    var peer: (any Channel)?

    init(isPartitioned: @escaping @Sendable () -> Bool, targetPort: Int?, register: @escaping @Sendable (any Channel) -> Void,
         peer: (any Channel)? = nil) {
        self.isPartitioned = isPartitioned
        self.targetPort = targetPort
        self.register = register
        self.peer = peer
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        guard let targetPort else { return }
        if isPartitioned() { return }  // Accepted, never relayed: a connect into the partition.
        let inbound = context.channel
        let isPartitioned = isPartitioned
        let register = register
        ClientBootstrap(group: context.eventLoop)
            .channelInitializer { outbound in
                outbound.eventLoop.makeCompletedFuture {
                    try outbound.pipeline.syncOperations.addHandler(
                        RelayHandler(isPartitioned: isPartitioned, targetPort: nil, register: register, peer: inbound))
                }
            }
            .connect(host: "127.0.0.1", port: targetPort)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let outbound):
                    register(outbound)
                    self.peer = outbound
                    inbound.setOption(.autoRead, value: true).whenComplete { _ in inbound.read() }
                case .failure:
                    inbound.close(promise: nil)
                }
            }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !isPartitioned(), let peer else { return }
        peer.writeAndFlush(unwrapInboundIn(data), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        peer?.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
