import BallotCore
import BallotWire
import Foundation
import Glibc
import NIOCore
import NIOPosix
import NIOSSL

/// A process on the network that talks to a node's peer port without being a member — or, for a
/// recording, as a member whose credentials it holds — used by the fault suite's intruder faults
/// and the end-to-end refusal tests. It sends bytes and reports what came back; judging whether
/// the node let it in is the caller's business (the node's own counters and event lines say).
public enum Intruder {
    /// What the intruder presents at the TLS layer.
    public struct TLSIdentity: Sendable {
        public var certificatePEM: String
        public var keyPEM: String
        public init(certificatePEM: String, keyPEM: String) {
            self.certificatePEM = certificatePEM
            self.keyPEM = keyPEM
        }
    }

    /// Where the node listens, and from which network namespace to dial it (nil: this one).
    public struct Target: Sendable {
        public var host: String
        public var port: Int
        public var namespace: String?
        public init(host: String, port: Int, namespace: String? = nil) {
            self.host = host
            self.port = port
            self.namespace = namespace
        }
    }

    /// What one connection saw.
    public struct Attempt: Sendable, CustomStringConvertible {
        /// The intruder's own address as the node sees it (`ip:port`), to find the node's verdict.
        public var localAddress: String
        /// Whether the TCP connection was made at all.
        public var connected: Bool
        /// Whether the node closed the connection before the intruder gave up waiting.
        public var closedByNode: Bool
        /// Frames the node sent back (decoded once TLS, if any, was up): its handshake, a rejection…
        public var framesReceived: [PeerFrame]
        /// Every byte the intruder wrote on the socket (TLS records included): what a replay sends.
        public var bytesSent: [UInt8]
        /// An error the connection ended with (a TLS alert, a reset), if any.
        public var error: String?

        /// The node's rejection, if it sent one.
        public var rejection: HandshakeRejection? {
            for case .handshakeReply(.rejected(let rejection)) in framesReceived { return rejection }
            return nil
        }

        public var description: String {
            "from \(localAddress): connected \(connected), closed by node \(closedByNode), "
                + "\(framesReceived.count) frames back\(rejection.map { " (rejected: \($0))" } ?? "")"
                + (error.map { ", error \($0)" } ?? "")
        }
    }

    /// Dials `target`, optionally over TLS as `tls`, sends `frames` at once (without waiting for
    /// anything), and waits up to `wait` for the node to close the connection.
    public static func send(_ frames: [PeerFrame], to target: Target, tls: TLSIdentity? = nil,
                            wait: Duration = .seconds(3)) async -> Attempt {
        await run(target: target, tls: tls, wait: wait) { _ in frames.map { .frame($0) } }
    }

    /// Dials `target` and writes `bytes` exactly as they are (a recorded connection replayed).
    public static func replay(_ bytes: [UInt8], to target: Target, wait: Duration = .seconds(3)) async -> Attempt {
        await run(target: target, tls: nil, wait: wait) { _ in [.raw(bytes)] }
    }

    /// Runs a complete, legitimate session as `member` (its certificate and, if `secrets`, the
    /// cluster secret) against the node `node` at `target`, sending nothing after the handshake,
    /// and returns the bytes it wrote: the recording a network eavesdropper could have made.
    public static func recordSession(as member: NodeID, to node: NodeID, target: Target, cluster: ClusterName,
                                     membership: Membership, tls: TLSIdentity?, secrets: ClusterSecrets?,
                                     wait: Duration = .seconds(3)) async -> Attempt {
        let policy = secrets.map {
            HandshakePolicy(localNode: member, clusterName: cluster, membership: membership, algorithm: .raft,
                            clusterSecrets: $0)
        } ?? HandshakePolicy(localNode: member, clusterName: cluster, membership: membership, algorithm: .raft)
        let session = SessionBox(PeerSession(policy: policy, expectedPeer: node))
        return await run(target: target, tls: tls, wait: wait, closeWhenEstablished: session) { _ in
            [.frame(session.session.openingFrame)]
        }
    }

    // MARK: The connection

    enum Outgoing { case frame(PeerFrame), raw([UInt8]) }

    /// A session the recorder drives, on the connection's event loop only.
    final class SessionBox: @unchecked Sendable {
        var session: PeerSession
        init(_ session: PeerSession) { self.session = session }
    }

    static func run(target: Target, tls: TLSIdentity?, wait: Duration, closeWhenEstablished session: SessionBox? = nil,
                    _ opening: @escaping @Sendable (ChannelHandlerContext) -> [Outgoing]) async -> Attempt {
        let group = MultiThreadedEventLoopGroup.singleton
        let observer = ObserverBox()
        let sslContext: NIOSSLContext?
        do {
            sslContext = try tls.map { identity in
                var configuration = TLSConfiguration.makeClientConfiguration()
                configuration.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(identity.certificatePEM.utf8))
                    .map { .certificate($0) }
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(identity.keyPEM.utf8), format: .pem))
                configuration.certificateVerification = .none  // An intruder does not care who answers.
                configuration.minimumTLSVersion = .tlsv13
                return try NIOSSLContext(configuration: configuration)
            }
        } catch {
            return Attempt(localAddress: "-", connected: false, closedByNode: false, framesReceived: [], bytesSent: [],
                           error: "cannot set up the intruder's TLS: \(error)")
        }
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.seconds(2))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handlers = channel.pipeline.syncOperations
                    try handlers.addHandler(ByteRecorder(observer: observer))
                    if let sslContext {
                        try handlers.addHandler(try NIOSSLClientHandler(context: sslContext, serverHostname: nil))
                    }
                    try handlers.addHandler(ByteToMessageHandler(RawFrameDecoder()))
                    try handlers.addHandler(IntruderHandler(observer: observer, session: session, opening: opening))
                }
            }
        let channel: any Channel
        do {
            if let namespace = target.namespace {
                guard let fd = connectedSocket(namespace: namespace, host: target.host, port: target.port) else {
                    return Attempt(localAddress: "-", connected: false, closedByNode: false, framesReceived: [],
                                   bytesSent: [], error: "cannot connect from namespace \(namespace)")
                }
                channel = try await bootstrap.withConnectedSocket(fd).get()
            } else {
                channel = try await bootstrap.connect(host: target.host, port: target.port).get()
            }
        } catch {
            return Attempt(localAddress: "-", connected: false, closedByNode: false, framesReceived: [], bytesSent: [],
                           error: "\(error)")
        }
        // Made only once there is a channel to complete it: NIO traps on a promise never completed.
        let outcome = channel.eventLoop.makePromise(of: Attempt.self)
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(wait.nanoseconds)) {
            observer.gaveUp = true
            channel.close(promise: nil)
        }
        channel.closeFuture.whenComplete { _ in
            timer.cancel()
            outcome.succeed(Attempt(
                localAddress: observer.localAddress ?? "?", connected: true, closedByNode: !observer.gaveUp && !observer.closedByUs,
                framesReceived: observer.frames, bytesSent: observer.sent, error: observer.error))
        }
        return (try? await outcome.futureResult.get())
            ?? Attempt(localAddress: observer.localAddress ?? "?", connected: true, closedByNode: false, framesReceived: [], bytesSent: [], error: nil)
    }

    /// A TCP socket created inside `namespace` and connected from there (the connect is bounded by
    /// a send timeout); the node then sees the intruder at that namespace's address.
    static func connectedSocket(namespace: String, host: String, port: Int) -> NIOBSDSocket.Handle? {
        guard let fd = NamespaceHTTP.socketInNamespace(namespace) else { return nil }
        var limit = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(host)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
        return fd
    }
}

/// What a connection observed, written on its event loop and read after it closed.
final class ObserverBox: @unchecked Sendable {
    var frames: [PeerFrame] = []
    var sent: [UInt8] = []
    var error: String?
    var gaveUp = false
    var closedByUs = false
    /// Read when the connection becomes active: a closed channel no longer knows its address.
    var localAddress: String?
}

/// Records every byte written to the socket, before any TLS handler: the connection as the wire saw it.
final class ByteRecorder: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let observer: ObserverBox
    init(observer: ObserverBox) { self.observer = observer }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let buffer = unwrapOutboundIn(data)
        observer.sent += buffer.readableBytesView
        context.write(data, promise: promise)
    }
}

/// Frames as the node sends them; junk ends the decoding (the intruder only wants to see a rejection).
struct RawFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = PeerFrame
    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let decoded = try buffer.withUnsafeReadableBytes { try FrameDecoder.decodeFrame(in: $0, limits: .default) }
        guard let decoded else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: decoded.byteCount)
        context.fireChannelRead(wrapInboundOut(decoded.frame))
        return .continue
    }
}

/// Sends the opening bytes, collects what comes back, and — when recording a legitimate session —
/// answers it as the member would until established, then closes.
final class IntruderHandler: ChannelInboundHandler {
    typealias InboundIn = PeerFrame
    typealias OutboundOut = ByteBuffer
    let observer: ObserverBox
    let session: Intruder.SessionBox?
    let opening: @Sendable (ChannelHandlerContext) -> [Intruder.Outgoing]

    init(observer: ObserverBox, session: Intruder.SessionBox?,
         opening: @escaping @Sendable (ChannelHandlerContext) -> [Intruder.Outgoing]) {
        self.observer = observer
        self.session = session
        self.opening = opening
    }

    func channelActive(context: ChannelHandlerContext) {
        observer.localAddress = context.localAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" }
        for item in opening(context) {
            switch item {
            case .frame(let frame): write(frame, context: context)
            case .raw(let bytes): context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
            }
        }
        context.flush()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        observer.frames.append(frame)
        guard let session else { return }
        do {
            switch try session.session.receive(frame) {
            case .send(let reply):
                write(reply, context: context)
                context.flush()
            case .established:
                observer.closedByUs = true
                context.close(promise: nil)
            case .deliver, .memberInfo:
                break
            }
        } catch {
            observer.error = "the recorded session failed: \(error)"
            observer.closedByUs = true
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        observer.error = observer.error ?? "\(error)"
        context.close(promise: nil)
    }

    private func write(_ frame: PeerFrame, context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: FrameEncoder.encode(frame))), promise: nil)
    }
}
