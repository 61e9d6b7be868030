import BallotClient
import BallotCore
import BallotRuntime
import BallotWire
import Logging
import NIOCore
import NIOSSL

/// One peer connection, run on the node's own event loop: the handshake both ways, then on a
/// connection the peer dialled its election messages go straight into the node, and on one this
/// node dialled the connection becomes the node's way out to that peer (``PeerOutbox``).
///
/// Everything happens in NIO callbacks on the loop that is also the node actor's executor, so a
/// frame reaches the election core with no task, queue or thread switch (issue 7's idle cost).
///
/// Under mutual TLS a `NIOSSLHandler` sits in front: no byte of the peer reaches the frame decoder
/// before its certificate verified, and the certificate's identity is handed to the session
/// before the peer's handshake frame, which must match it. Only an established session — whose
/// handshake (identity, cluster, node, proof of the secret) passed — delivers messages: nothing
/// from an unauthenticated connection reaches the node. A connection that has not completed all
/// of that within the handshake deadline is closed.
final class PeerSessionHandler: ChannelInboundHandler {
    typealias InboundIn = PeerFrame
    typealias OutboundOut = OutboundFrame

    enum Direction {
        /// The peer dialled us: we receive its election messages here.
        case inbound
        /// We dialled `peer`: we send ours here.
        case outbound(NodeID)
    }

    /// What the transport gives every connection.
    struct Context {
        let node: BallotNode
        let policy: HandshakePolicy
        let logger: Logger
        let refusals: RefusalLog
        let handshakeTimeout: Duration
        /// The TLS verification of this connection, under mutual TLS.
        let verification: PeerCertificateVerifier.Result?
        /// Whether to print `event=peer_…` lines (`--events`).
        let printEvents: Bool
        /// Called once when the connection stops handshaking (established, refused or closed).
        let handshakeEnded: () -> Void
    }

    private let node: BallotNode
    private let direction: Direction
    private let logger: Logger
    private let refusals: RefusalLog
    private let handshakeTimeout: Duration
    private let verification: PeerCertificateVerifier.Result?
    private let printEvents: Bool
    private var handshakeEnded: (() -> Void)?
    private var session: PeerSession
    /// Completed when the connection ends, with whether it got as far as an established session.
    private let ended: EventLoopPromise<Bool>?
    private var established = false
    private var refused = false
    /// Election messages this connection handed to the node: the evidence `ballot faults` checks
    /// that unauthenticated connections delivered none.
    private var delivered = 0
    private var remote = "unknown"
    private var deadline: Scheduled<Void>?
    private var closePrinted = false
    /// The outbox handle of an established outbound connection.
    private var attachment: (peer: NodeID, generation: Int)?

    init(_ context: Context, direction: Direction, ended: EventLoopPromise<Bool>? = nil) {
        self.node = context.node
        self.direction = direction
        self.logger = context.logger
        self.refusals = context.refusals
        self.handshakeTimeout = context.handshakeTimeout
        self.verification = context.verification
        self.printEvents = context.printEvents
        self.handshakeEnded = context.handshakeEnded
        self.ended = ended
        if case .outbound(let peer) = direction {
            session = PeerSession(policy: context.policy, expectedPeer: peer)
        } else {
            session = PeerSession(policy: context.policy, expectedPeer: nil)
        }
    }

    private var recorder: MetricsRecorder { node.recorder }
    private var isInbound: Bool { if case .inbound = direction { true } else { false } }

    func channelActive(context: ChannelHandlerContext) {
        remote = context.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "unknown"
        // Under TLS the frame waits in the TLS handler until the TLS handshake completes.
        sendHandshake(session.openingFrame, context: context)
        let timeout = handshakeTimeout
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(timeout.nanoseconds)) { [self] in
            deadlinePassed(context: context)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Frames decoded in the same read as a rejected one are not looked at.
        if refused { return }
        if case .failed = session.state { return }
        let frame = unwrapInboundIn(data)
        if case .message = frame {} else {
            recorder.handshakeBytes(received: FrameEncoder.encodedByteCount(of: frame, version: version))
        }
        // Under mutual TLS the first frame arrives only after the TLS handshake, whose certificate
        // check recorded who the peer is; the session compares it with the handshake frame.
        if session.certifiedPeer == nil, case .verified(let identity) = verification?.value {
            session.peerCertified(as: identity)
        }
        do {
            switch try session.receive(frame) {
            case .send(let reply):
                sendHandshake(reply, context: context)
            case .established(let peer):
                established = true
                establish(peer, context: context)
            case .deliver(let message, let peer):
                // On a connection we dialled the peer only ever answers our handshake.
                guard case .inbound = direction else { return }
                delivered += 1
                let bytes = FrameEncoder.encodedByteCount(of: frame, version: version)
                node.assumeIsolated { $0.receive(message, from: peer, bytes: bytes) }
            case .memberInfo(let info, let peer):
                guard case .inbound = direction else { return }
                node.members.record(info, from: peer)
            }
        } catch {
            reject(error, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if refused { return }
        if case .failed = session.state {
            return  // Already rejected and closing.
        } else if let error = error as? WireError {
            reject(error, context: context)
        } else if !established, isTLSFailure(error) {
            let detail = PeerTLSFailure.describe(error, verification: verification?.value)
            refuse(reason: "auth", detail: detail, context: context)
        } else {
            logger.debug("peer connection ended", metadata: ["peer": "\(peerLabel)", "error": "\(error)"])
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish()  // A connection that never became active still ends.
    }

    /// Whether `error` is the TLS layer refusing (or failing) the handshake.
    private func isTLSFailure(_ error: any Error) -> Bool {
        if error is NIOSSLError || error is BoringSSLError { return true }
        return false
    }

    private func establish(_ peer: NodeID, context: ChannelHandlerContext) {
        endHandshake()
        guard case .outbound = direction else {
            logger.debug("inbound peer connection established", metadata: ["peer": "\(peer)", "remote": "\(remote)"])
            if printEvents {
                EventLine.write("event=peer_accepted node=\(node.id) peer=\(peer) remote=\(remote) "
                                + "auth=\(authLabel) mono_ns=\(SystemMonotonicClock.now.nanoseconds)")
            }
            return
        }
        attachment = (peer, node.outbox.attach(peer, channel: context.channel, version: version))
        recorder.peerConnected(peer, true)
        logger.info("connected to peer", metadata: ["event": "peer_connected", "peer": "\(peer)", "protocol_version": "\(version)", "auth": "\(authLabel)"])
        // Version 2: say where this node's HTTP endpoint is, once per connection (issue 15).
        if version >= 2 {
            let info = PeerFrame.memberInfo(node.members.localInfo)
            context.writeAndFlush(wrapOutboundOut(OutboundFrame(info, version: version)), promise: nil)
            recorder.handshakeBytes(sent: FrameEncoder.encodedByteCount(of: info, version: version))
        }
    }

    /// The version the session negotiated, once the peer's handshake passed; 1 before.
    private var version: UInt8 {
        switch session.state {
        case .awaitingProof(_, let version), .awaitingReply(_, let version), .established(_, let version): version
        case .awaitingHandshake, .failed: WireVersion.setup
        }
    }

    /// How the peer authenticated: `tls`, `secret`, `tls+secret` or `none`.
    private var authLabel: String {
        let methods = [verification != nil ? "tls" : nil, session.policy.clusterSecrets != nil ? "secret" : nil]
            .compactMap { $0 }
        return methods.isEmpty ? "none" : methods.joined(separator: "+")
    }

    private func endHandshake() {
        deadline?.cancel()
        deadline = nil
        handshakeEnded?()
        handshakeEnded = nil
    }

    private func finish() {
        endHandshake()
        if let attachment {
            self.attachment = nil
            node.outbox.detach(attachment.peer, generation: attachment.generation)
            recorder.peerConnected(attachment.peer, false)
            logger.info("disconnected from peer", metadata: ["event": "peer_disconnected", "peer": "\(attachment.peer)"])
        }
        if established, !refused, !closePrinted, isInbound, printEvents, let peer = session.peer {
            closePrinted = true
            EventLine.write("event=peer_closed node=\(node.id) peer=\(peer) remote=\(remote) delivered=\(delivered) "
                            + "mono_ns=\(SystemMonotonicClock.now.nanoseconds)")
        }
        ended?.succeed(established)  // Later completions are ignored.
    }

    private func sendHandshake(_ frame: PeerFrame, context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(OutboundFrame(frame)), promise: nil)
        recorder.handshakeBytes(sent: FrameEncoder.encodedByteCount(of: frame))
    }

    /// The handshake deadline: a connection still not established is closed (and, when the peer
    /// dialled us, counted: it held a slot of the handshaking cap all that time).
    private func deadlinePassed(context: ChannelHandlerContext) {
        deadline = nil
        guard !established, !refused else { return }
        let detail = "the handshake did not complete within \(DurationParser.format(handshakeTimeout)) "
            + "(\(session.state))"
        if isInbound {
            refuse(reason: "handshake_timeout", detail: detail, context: context)
        } else {
            logger.debug("closing peer connection: \(detail)", metadata: ["peer": "\(peerLabel)"])
            refused = true
            context.close(promise: nil)
        }
    }

    /// A malformed frame, a failed handshake or a rejection from the peer: count it, say why, tell
    /// the peer when there is something to tell, and close. The node itself carries on.
    private func reject(_ error: WireError, context: ChannelHandlerContext) {
        if let rejection = error.rejection {
            context.writeAndFlush(wrapOutboundOut(OutboundFrame(.handshakeReply(.rejected(rejection)))), promise: nil)
        }
        refuse(reason: error.metricReason, detail: error.description, context: context)
    }

    /// Counts the refusal under `reason`, logs it (rate-limited) and closes.
    private func refuse(reason: String, detail: String, context: ChannelHandlerContext) {
        refused = true
        endHandshake()
        recorder.frameRejected(reason: reason)
        refusals.refused(remote: remote, peer: peerLabel, reason: reason, detail: detail)
        if isInbound && printEvents {
            EventLine.write("event=peer_refused node=\(node.id) remote=\(remote) reason=\(reason) "
                            + "established=\(established) delivered=\(delivered) "
                            + "mono_ns=\(SystemMonotonicClock.now.nanoseconds)")
        }
        context.close(promise: nil)
    }

    private var peerLabel: String {
        if let peer = session.peer { return "\(peer)" }
        if case .outbound(let peer) = direction { return "\(peer)" }
        return "unauthenticated"
    }
}
