import BallotCore
import BallotWire
import Logging
import NIOCore
import NIOPosix

/// The TCP side of a node: a listener that admits peers only after a valid handshake, and one
/// outbound connection per peer, kept up with jittered exponential backoff.
///
/// Each direction has its own connection: a node sends on the connection it dialled and receives
/// on the ones it accepted, so neither side's writes ever wait for the other's reads. Every
/// connection lives on the node's event loop (``BallotNode/eventLoop``), where
/// ``PeerSessionHandler`` runs it without leaving the loop.
public final class PeerTransport: Sendable {
    let node: BallotNode
    let peers: [PeerAddress]
    let policy: HandshakePolicy
    let limits: WireLimits
    let logger: Logger
    /// Accepted connections, closed when the transport stops (outbound ones close with their task).
    let accepted: NIOLoopBoundBox<[ObjectIdentifier: any Channel]>

    public init(node: BallotNode, peers: [PeerAddress], policy: HandshakePolicy, limits: WireLimits, logger: Logger) {
        self.node = node
        self.peers = peers
        self.policy = policy
        self.limits = limits
        self.logger = logger
        accepted = NIOLoopBoundBox.makeBoxSendingValue([:], eventLoop: node.eventLoop)
    }

    var loop: any EventLoop { node.eventLoop }

    /// Binds the peer listener. Fails with ``TransportError/addressInUse`` if the port is taken.
    public func bind(host: String, port: Int) async throws -> any Channel {
        do {
            return try await ServerBootstrap(group: loop)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try self.addHandlers(to: channel, direction: .inbound, ended: nil)
                        self.track(channel)
                    }
                }
                .bind(host: host, port: port).get()
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw TransportError.addressInUse(host: host, port: port, purpose: "peer listener")
        }
    }

    /// Serves the listener and keeps every outbound connection up, until the task is cancelled;
    /// then closes the listener and every connection.
    public func run(listener: any Channel) async {
        await withDiscardingTaskGroup { group in
            for peer in peers {
                group.addTask { await self.maintainOutbound(to: peer) }
            }
            await withTaskCancellationHandler {
                try? await listener.closeFuture.get()
            } onCancel: {
                listener.close(promise: nil)
                self.loop.execute { self.closeAccepted() }
            }
        }
    }

    func addHandlers(to channel: any Channel, direction: PeerSessionHandler.Direction,
                     ended: EventLoopPromise<Bool>?) throws {
        let handlers = channel.pipeline.syncOperations
        try handlers.addHandler(ByteToMessageHandler(PeerFrameDecoder(limits: limits)))
        try handlers.addHandler(MessageToByteHandler(PeerFrameEncoder()))
        try handlers.addHandler(PeerSessionHandler(node: node, policy: policy, direction: direction,
                                                   logger: logger, ended: ended))
    }

    private func track(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        accepted.value[key] = channel
        channel.closeFuture.assumeIsolated().whenComplete { _ in self.accepted.value[key] = nil }
    }

    private func closeAccepted() {
        for channel in accepted.value.values { channel.close(promise: nil) }
    }

    // MARK: Outbound

    /// Keeps a connection to `peer` up for as long as the task runs, reconnecting with backoff.
    ///
    /// When an established connection ends, the first reconnect is immediate; if the kernel
    /// refuses it, nobody listens on the peer's port any more — its process is most likely gone —
    /// and the core is told so (issue 7's fast failover). A flapping link reconnects instead.
    func maintainOutbound(to peer: PeerAddress) async {
        var backoff = Backoff(seed: UInt64(truncatingIfNeeded: peer.id.rawValue &* 0x9E37_79B9 &+ policy.localNode.rawValue))
        // Set when an established session ends, cleared once one is established again. A dying
        // process may still accept a connection or two while the kernel tears it down, so any
        // refusal until the next session counts — but it is reported once.
        var lostSession = false
        while !Task.isCancelled {
            do {
                if try await runOutbound(to: peer) {
                    backoff.reset()
                    lostSession = true
                    continue  // Reconnect at once: a refusal now is evidence the process died.
                }
            } catch {
                if lostSession && Self.isConnectionRefused(error) {
                    lostSession = false
                    logger.notice("peer refuses connections after dropping ours; reporting it gone",
                                  metadata: ["event": "peer_gone", "peer": "\(peer.id)"])
                    await node.peerUnreachable(peer.id)
                }
                logger.trace("cannot reach peer", metadata: ["peer": "\(peer.id)", "error": "\(error)"])
            }
            try? await Task.sleep(for: backoff.next())
        }
    }

    /// Whether a connect attempt failed because nothing listens on the port (ECONNREFUSED).
    static func isConnectionRefused(_ error: any Error) -> Bool {
        if let error = error as? IOError { return error.errnoCode == ECONNREFUSED }
        if let error = error as? NIOConnectionError {
            return !error.connectionErrors.isEmpty
                && error.connectionErrors.allSatisfy { isConnectionRefused($0.error) }
        }
        return false
    }

    /// Dials `peer` and runs the connection until it ends (or the task is cancelled, which closes
    /// it). Returns whether it got as far as an established session.
    func runOutbound(to peer: PeerAddress) async throws -> Bool {
        let ended = loop.makePromise(of: Bool.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(.seconds(1))
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelOption(.writeBufferWaterMark, value: PeerOutbox.writeBufferWaterMark)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try self.addHandlers(to: channel, direction: .outbound(peer.id), ended: ended)
                    }
                }
                .connect(host: peer.address.hostString, port: peer.address.port).get()
        } catch {
            ended.succeed(false)
            throw error
        }
        return try await withTaskCancellationHandler {
            try await ended.futureResult.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }
}

/// Failures of the transport that stop a node from starting.
public enum TransportError: Error, Hashable, Sendable, CustomStringConvertible {
    case addressInUse(host: String, port: Int, purpose: String)

    public var description: String {
        switch self {
        case .addressInUse(let host, let port, let purpose):
            "\(host):\(port) (\(purpose)) is already in use; stop the process holding it or choose another port"
        }
    }
}
