import BallotCore
import BallotWire
import Logging
import NIOCore

/// One peer connection, run on the node's own event loop: the handshake both ways, then on a
/// connection the peer dialled its election messages go straight into the node, and on one this
/// node dialled the connection becomes the node's way out to that peer (``PeerOutbox``).
///
/// Everything happens in NIO callbacks on the loop that is also the node actor's executor, so a
/// frame reaches the election core with no task, queue or thread switch (issue 7's idle cost).
final class PeerSessionHandler: ChannelInboundHandler {
    typealias InboundIn = PeerFrame
    typealias OutboundOut = OutboundFrame

    enum Direction {
        /// The peer dialled us: we receive its election messages here.
        case inbound
        /// We dialled `peer`: we send ours here.
        case outbound(NodeID)
    }

    private let node: BallotNode
    private let direction: Direction
    private let logger: Logger
    private var session: PeerSession
    /// Completed when the connection ends, with whether it got as far as an established session.
    private let ended: EventLoopPromise<Bool>?
    private var established = false
    /// The outbox handle of an established outbound connection.
    private var attachment: (peer: NodeID, generation: Int)?

    init(node: BallotNode, policy: HandshakePolicy, direction: Direction, logger: Logger,
         ended: EventLoopPromise<Bool>? = nil) {
        self.node = node
        self.direction = direction
        self.logger = logger
        self.ended = ended
        if case .outbound(let peer) = direction {
            session = PeerSession(policy: policy, expectedPeer: peer)
        } else {
            session = PeerSession(policy: policy, expectedPeer: nil)
        }
    }

    private var recorder: MetricsRecorder { node.recorder }

    func channelActive(context: ChannelHandlerContext) {
        sendHandshake(session.openingFrame, context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Frames decoded in the same read as a rejected one are not looked at.
        if case .failed = session.state { return }
        let frame = unwrapInboundIn(data)
        if case .message = frame {} else {
            recorder.handshakeBytes(received: FrameEncoder.encodedByteCount(of: frame, version: version))
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
        if case .failed = session.state {
            return  // Already rejected and closing.
        } else if let error = error as? WireError {
            reject(error, context: context)
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

    private func establish(_ peer: NodeID, context: ChannelHandlerContext) {
        guard case .outbound = direction else {
            logger.debug("inbound peer connection established", metadata: ["peer": "\(peer)"])
            return
        }
        attachment = (peer, node.outbox.attach(peer, channel: context.channel, version: version))
        recorder.peerConnected(peer, true)
        logger.info("connected to peer", metadata: ["event": "peer_connected", "peer": "\(peer)", "protocol_version": "\(version)"])
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

    private func finish() {
        if let attachment {
            self.attachment = nil
            node.outbox.detach(attachment.peer, generation: attachment.generation)
            recorder.peerConnected(attachment.peer, false)
            logger.info("disconnected from peer", metadata: ["event": "peer_disconnected", "peer": "\(attachment.peer)"])
        }
        ended?.succeed(established)  // Later completions are ignored.
    }

    private func sendHandshake(_ frame: PeerFrame, context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(OutboundFrame(frame)), promise: nil)
        recorder.handshakeBytes(sent: FrameEncoder.encodedByteCount(of: frame))
    }

    /// A malformed frame, a failed handshake or a rejection from the peer: count it, say why, tell
    /// the peer when there is something to tell, and close. The node itself carries on.
    private func reject(_ error: WireError, context: ChannelHandlerContext) {
        recorder.frameRejected(reason: error.metricReason)
        logger.warning("closing peer connection: \(error)", metadata: [
            "event": "peer_rejected", "remote": "\(context.remoteAddress.map { "\($0)" } ?? "unknown")", "peer": "\(peerLabel)",
            "reason": "\(error.metricReason)",
        ])
        if let rejection = error.rejection {
            context.writeAndFlush(wrapOutboundOut(OutboundFrame(.handshakeReply(.rejected(rejection)))), promise: nil)
        }
        context.close(promise: nil)
    }

    private var peerLabel: String {
        if let peer = session.peer { return "\(peer)" }
        if case .outbound(let peer) = direction { return "\(peer)" }
        return "unauthenticated"
    }
}
