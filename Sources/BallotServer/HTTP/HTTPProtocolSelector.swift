import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOSSL
import NIOTLS

/// One request/answer channel: an HTTP/2 stream seen through the HTTP/2-to-HTTP/1 codec, so that
/// routes see the same request parts over both versions.
typealias HTTPExchangeChannel = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

/// An accepted connection once its protocol is known. An HTTP/1.1 connection is served by its
/// pipeline (``HTTP1RequestReader``); an HTTP/2 one by a task over its stream multiplexer.
enum HTTPConnection: Sendable {
    case http1(HTTPConnectionInfo)
    case http2(any Channel, NIOHTTP2Handler.AsyncStreamMultiplexer<HTTPExchangeChannel>, HTTPConnectionInfo)
}

/// The connection ended before it chose a protocol (a failed TLS handshake, a client that left).
struct ConnectionEndedEarly: Error {}

/// Decides whether a connection speaks HTTP/1.1 or HTTP/2 — by ALPN after the TLS handshake, or,
/// in plaintext, by whether its first 24 bytes are the HTTP/2 preface (prior knowledge, h2c) —
/// then builds the rest of the pipeline and removes itself.
final class HTTPProtocolSelector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    /// Builds the pipeline after this handler for the chosen version; called on the event loop.
    typealias Configure = (any Channel, HTTPConnectionInfo.Version, _ verifiedClientCertificate: Bool) throws -> HTTPConnection

    static let http2Preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    private let tls: Bool
    private let verifiesClientCertificates: Bool
    private let configure: Configure
    private let decision: EventLoopPromise<HTTPConnection>
    private var buffered: ByteBuffer?
    private var decided = false

    init(tls: Bool, verifiesClientCertificates: Bool, decision: EventLoopPromise<HTTPConnection>,
         configure: @escaping Configure) {
        self.tls = tls
        self.verifiesClientCertificates = verifiesClientCertificates
        self.decision = decision
        self.configure = configure
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        guard !decided else {
            context.fireChannelRead(data)
            return
        }
        if buffered == nil {
            buffered = incoming
        } else {
            buffered!.writeBuffer(&incoming)
        }
        guard !tls, let bytes = buffered else { return }  // With TLS, ALPN decides.
        let prefix = bytes.readableBytesView.prefix(Self.http2Preface.count)
        if !prefix.elementsEqual(Self.http2Preface.prefix(prefix.count)) {
            decide(.http1, verified: false, context: context)
        } else if prefix.count == Self.http2Preface.count {
            decide(.http2, verified: false, context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !decided, case .handshakeCompleted(let negotiated) = event as? TLSUserEvent {
            let handler = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
            let verified = verifiesClientCertificates && handler?.peerCertificate != nil
            decide(negotiated == "h2" ? .http2 : .http1, verified: verified, context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        giveUp()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Before a protocol is chosen, any error (a failed handshake above all) ends the connection.
        if !decided {
            giveUp()
            context.close(promise: nil)
        } else {
            context.fireErrorCaught(error)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        giveUp()
    }

    private func giveUp() {
        guard !decided else { return }
        decided = true
        decision.fail(ConnectionEndedEarly())
    }

    private func decide(_ version: HTTPConnectionInfo.Version, verified: Bool, context: ChannelHandlerContext) {
        decided = true
        do {
            decision.succeed(try configure(context.channel, version, verified))
        } catch {
            decision.fail(error)
            context.close(promise: nil)
            return
        }
        if let bytes = buffered {
            buffered = nil
            context.fireChannelRead(wrapInboundOut(bytes))
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
