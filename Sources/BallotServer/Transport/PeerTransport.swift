import BallotCore
import BallotRuntime
import BallotWire
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// The TCP side of a node: a listener that admits peers only after a valid handshake, and one
/// outbound connection per peer, kept up with jittered exponential backoff.
///
/// Each direction has its own connection: a node sends on the connection it dialled and receives
/// on the ones it accepted, so neither side's writes ever wait for the other's reads. Every
/// connection lives on the node's event loop (``BallotNode/eventLoop``), where
/// ``PeerSessionHandler`` runs it without leaving the loop.
///
/// Each connection takes the node's peer credentials current when it starts (``PeerTrustStore``):
/// under mutual TLS a TLS handler (TLS 1.3, the peer's certificate verified against the CA) comes
/// first in its pipeline, and the handshake policy carries the cluster secrets. Accepted
/// connections that are still handshaking are capped; more are closed at once, and every
/// connection must complete its handshake within the deadline.
public final class PeerTransport: Sendable {
    let node: BallotNode
    let peers: [PeerAddress]
    /// The checks without credentials; each connection adds the current ones.
    let policy: HandshakePolicy
    let limits: WireLimits
    let logger: Logger
    let trust: PeerTrustStore
    let printEvents: Bool
    let refusals: RefusalLog
    /// Accepted connections, closed when the transport stops (outbound ones close with their task).
    let accepted: NIOLoopBoundBox<[ObjectIdentifier: any Channel]>
    /// Accepted connections that have not finished their handshake yet.
    let handshaking: NIOLoopBoundBox<Int>

    public init(node: BallotNode, peers: [PeerAddress], policy: HandshakePolicy, limits: WireLimits,
                trust: PeerTrustStore, printEvents: Bool = false, logger: Logger) {
        self.node = node
        self.peers = peers
        self.policy = policy
        self.limits = limits
        self.logger = logger
        self.trust = trust
        self.printEvents = printEvents
        refusals = RefusalLog(logger: logger)
        accepted = NIOLoopBoundBox.makeBoxSendingValue([:], eventLoop: node.eventLoop)
        handshaking = NIOLoopBoundBox.makeBoxSendingValue(0, eventLoop: node.eventLoop)
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
                        guard self.admit(channel) else { return }
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

    /// Whether an accepted connection may start its handshake: beyond the cap on connections still
    /// handshaking it is closed at once and counted (`too_many_handshakes`), so a flood of silent
    /// or slow connections holds at most the cap's worth of sockets, each for at most the deadline.
    func admit(_ channel: any Channel) -> Bool {
        let cap = trust.configuration.maxPendingHandshakes
        guard handshaking.value < cap else {
            node.recorder.frameRejected(reason: "too_many_handshakes")
            let remote = channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "unknown"
            refusals.refused(remote: remote, peer: "unauthenticated", reason: "too_many_handshakes",
                             detail: "\(cap) accepted connections are still handshaking; closing this one at once")
            if printEvents {
                EventLine.write("event=peer_refused node=\(node.id) remote=\(remote) reason=too_many_handshakes "
                                + "established=false delivered=0 mono_ns=\(SystemMonotonicClock.now.nanoseconds)")
            }
            channel.close(promise: nil)
            return false
        }
        handshaking.value += 1
        return true
    }

    func addHandlers(to channel: any Channel, direction: PeerSessionHandler.Direction,
                     ended: EventLoopPromise<Bool>?) throws {
        let material = trust.current
        let handlers = channel.pipeline.syncOperations
        var verification: PeerCertificateVerifier.Result?
        if let tls = material.tls {
            let result = PeerCertificateVerifier.Result()
            verification = result
            let verify = PeerCertificateVerifier.callback(trustRoots: tls.trustRoots, result: result)
            switch direction {
            case .inbound:
                try handlers.addHandler(NIOSSLServerHandler(context: tls.serverContext, customVerificationCallback: verify))
            case .outbound:
                try handlers.addHandler(
                    NIOSSLClientHandler(context: tls.clientContext, serverHostname: nil, customVerificationCallback: verify))
            }
        }
        try handlers.addHandler(ByteToMessageHandler(PeerFrameDecoder(limits: limits)))
        try handlers.addHandler(MessageToByteHandler(PeerFrameEncoder()))
        let inbound: Bool
        if case .inbound = direction { inbound = true } else { inbound = false }
        let handshaking = self.handshaking
        let context = PeerSessionHandler.Context(
            node: node, policy: material.policy(policy), logger: logger, refusals: refusals,
            handshakeTimeout: trust.configuration.handshakeTimeout, verification: verification,
            printEvents: printEvents,
            handshakeEnded: { if inbound { handshaking.value -= 1 } })
        try handlers.addHandler(PeerSessionHandler(context, direction: direction, ended: ended))
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
