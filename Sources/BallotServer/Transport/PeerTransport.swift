import BallotCore
import BallotWire
import Logging
import NIOCore
import NIOPosix

/// The TCP side of a node: a listener that admits peers only after a valid handshake, and one
/// outbound connection per peer, kept up with jittered exponential backoff.
///
/// Each direction has its own connection: a node sends on the connection it dialled and receives
/// on the ones it accepted, so neither side's writes ever wait for the other's reads.
public final class PeerTransport: Sendable {
    public typealias FrameChannel = NIOAsyncChannel<PeerFrame, PeerFrame>
    public typealias Listener = NIOAsyncChannel<FrameChannel, Never>

    let node: BallotNode
    let peers: [PeerAddress]
    let policy: HandshakePolicy
    let limits: WireLimits
    let logger: Logger
    let group: any EventLoopGroup

    public init(node: BallotNode, peers: [PeerAddress], policy: HandshakePolicy, limits: WireLimits,
                logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.node = node
        self.peers = peers
        self.policy = policy
        self.limits = limits
        self.logger = logger
        self.group = group
    }

    var recorder: MetricsRecorder { node.recorder }
    var outbox: PeerOutbox { node.outbox }

    /// Binds the peer listener. Fails with ``TransportError/addressInUse`` if the port is taken.
    public func bind(host: String, port: Int) async throws -> Listener {
        do {
            return try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .bind(host: host, port: port) { channel in self.makeFrameChannel(channel) }
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw TransportError.addressInUse(host: host, port: port, purpose: "peer listener")
        }
    }

    /// Serves the listener and keeps every outbound connection up, until the task is cancelled.
    public func run(listener: Listener) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for peer in peers {
                group.addTask { await self.maintainOutbound(to: peer) }
            }
            try await listener.executeThenClose { connections in
                for try await connection in connections {
                    group.addTask { await self.serveInbound(connection) }
                }
            }
        }
    }

    func makeFrameChannel(_ channel: any Channel) -> EventLoopFuture<FrameChannel> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(PeerFrameDecoder(limits: limits)))
            try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(PeerFrameEncoder()))
            return try FrameChannel(wrappingChannelSynchronously: channel)
        }
    }

    // MARK: Inbound

    /// Runs one accepted connection: handshake both ways, then deliver election messages to the node.
    func serveInbound(_ connection: FrameChannel) async {
        let remote = connection.channel.remoteAddress.map { "\($0)" } ?? "unknown"
        var session = PeerSession(policy: policy, expectedPeer: nil)
        do {
            try await connection.executeThenClose { inbound, outbound in
                try await outbound.write(session.openingFrame)
                countHandshake(sent: session.openingFrame)
                do {
                    for try await frame in inbound {
                        if case .message = frame {} else { countHandshake(received: frame) }
                        switch try session.receive(frame) {
                        case .send(let reply):
                            try await outbound.write(reply)
                            countHandshake(sent: reply)
                        case .established(let peer):
                            logger.debug("inbound peer connection established", metadata: ["peer": "\(peer)", "remote": "\(remote)"])
                        case .deliver(let message, let peer):
                            await node.receive(message, from: peer, bytes: FrameEncoder.encodedByteCount(of: frame))
                        }
                    }
                } catch let error as WireError {
                    reject(error, remote: remote, peer: session.peer)
                    if let rejection = error.rejection {
                        try? await outbound.write(.handshakeReply(.rejected(rejection)))
                    }
                }
            }
        } catch {
            logger.debug("inbound connection ended", metadata: ["remote": "\(remote)", "error": "\(error)"])
        }
    }

    func countHandshake(sent frame: PeerFrame) {
        recorder.handshakeBytes(sent: FrameEncoder.encodedByteCount(of: frame))
    }

    func countHandshake(received frame: PeerFrame) {
        recorder.handshakeBytes(received: FrameEncoder.encodedByteCount(of: frame))
    }

    func reject(_ error: WireError, remote: String, peer: NodeID?) {
        recorder.frameRejected(reason: error.metricReason)
        logger.warning("closing peer connection: \(error)", metadata: [
            "remote": "\(remote)", "peer": "\(peer.map { "\($0)" } ?? "unauthenticated")",
            "reason": "\(error.metricReason)",
        ])
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
                let channel = try await ClientBootstrap(group: group)
                    .connectTimeout(.seconds(1))
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .connect(host: peer.address.hostString, port: peer.address.port) { channel in
                        self.makeFrameChannel(channel)
                    }
                if try await runOutbound(channel, to: peer.id) {
                    backoff.reset()
                    lostSession = true
                    continue  // Reconnect at once: a refusal now is evidence the process died.
                }
            } catch is CancellationError {
                return
            } catch {
                if lostSession && Self.isConnectionRefused(error) {
                    lostSession = false
                    logger.notice("peer refuses connections after dropping ours; reporting it gone",
                                  metadata: ["peer": "\(peer.id)"])
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

    /// Runs one outbound connection. Returns whether it got as far as an established session.
    func runOutbound(_ channel: FrameChannel, to peer: NodeID) async throws -> Bool {
        let remote = "\(peer)"
        var session = PeerSession(policy: policy, expectedPeer: peer)
        var established = false
        try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(session.openingFrame)
            countHandshake(sent: session.openingFrame)
            var frames = inbound.makeAsyncIterator()
            do {
                // The handshake exchange: the peer's handshake (we accept it), then its reply to ours.
                while !established, let frame = try await frames.next() {
                    countHandshake(received: frame)
                    switch try session.receive(frame) {
                    case .send(let reply):
                        try await outbound.write(reply)
                        countHandshake(sent: reply)
                    case .established: established = true
                    case .deliver: break
                    }
                }
            } catch let error as WireError {
                reject(error, remote: remote, peer: peer)
                if let rejection = error.rejection { try? await outbound.write(.handshakeReply(.rejected(rejection))) }
                return
            }
            guard established else { return }
            let (queue, generation) = outbox.attach(peer)
            recorder.peerConnected(peer, true)
            logger.info("connected to peer", metadata: ["peer": "\(peer)"])
            defer {
                outbox.detach(peer, generation: generation)
                recorder.peerConnected(peer, false)
                logger.info("disconnected from peer", metadata: ["peer": "\(peer)"])
            }
            // Write queued frames until the connection fails or the peer closes it; meanwhile read,
            // so a close or a rejection from the peer is noticed at once.
            let recorder = self.recorder
            let writer = Task {
                for await frame in queue {
                    try await outbound.write(frame)
                    if case .message(let message) = frame {
                        recorder.messageSent(message.kind, bytes: FrameEncoder.encodedByteCount(of: frame))
                    }
                }
            }
            defer { writer.cancel() }
            while let frame = try await frames.next() {
                if case .handshakeReply(.rejected(let rejection)) = frame {
                    throw WireError.rejectedByPeer(rejection)
                }
            }
        }
        return established
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
