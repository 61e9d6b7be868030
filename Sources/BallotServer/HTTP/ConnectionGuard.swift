import NIOCore
import NIOHTTP1

/// Enforces ``HTTPLimits`` on one connection: sits right above TLS (or the socket), sees every
/// decrypted byte before the HTTP codec does, keeps the connection's ``ConnectionClock``, and closes
/// the connection when a deadline passes or answers 431 when a head is too large. The HTTP/1.1
/// codec's tracker and the HTTP/2 stream delegate tell it about requests, answers and streams; it
/// tells the listener's ``ConnectionLimiter`` whether the connection is idle.
final class ConnectionGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var clock: ConnectionClock
    private let limiter: ConnectionLimiter
    private let id: ConnectionLimiter.ID
    private let metrics: HTTPMetrics
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private var reportedIdle: Bool?
    /// Set once the connection is being refused or closed: reads are dropped from then on.
    private var closing = false

    init(limits: HTTPLimits, limiter: ConnectionLimiter, id: ConnectionLimiter.ID, metrics: HTTPMetrics) {
        clock = ConnectionClock(limits: limits, openedAt: .now())
        self.limiter = limiter
        self.id = id
        self.metrics = metrics
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        update()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        closing = true
        limiter.release(id)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let buffer = unwrapInboundIn(data)
        switch clock.read(buffer, at: .now()) {
        case .forward:
            update()
            context.fireChannelRead(data)
        case .headTooLarge:
            metrics.closedConnection(.headTooLarge)
            answerAndClose(RawHTTPAnswer.bytes(
                status: .requestHeaderFieldsTooLarge,
                message: "the request head is larger than \(clock.maxHeadSize) bytes; send fewer or shorter headers"))
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        clock.writabilityChanged(context.channel.isWritable, at: .now())
        update()
        context.fireChannelWritabilityChanged()
    }

    // MARK: What the protocol layers report

    func requestReceived() {
        clock.requestReceived(at: .now())
        update()
    }

    func responseFinished() {
        clock.responseFinished(at: .now())
        update()
    }

    func switchToHTTP2() {
        clock.switchToHTTP2()
        update()
    }

    func streamOpened() {
        clock.streamOpened(at: .now())
        update()
    }

    func streamClosed() {
        clock.streamClosed(at: .now())
        update()
    }

    /// Writes a complete HTTP/1.1 answer straight to the client and closes once it has read it:
    /// reads are dropped meanwhile, and the connection is closed after at most a second. (Closing
    /// at once, with unread request bytes in the socket, would make the kernel reset the connection
    /// and could destroy the answer before the client reads it.)
    func answerAndClose(_ answer: ByteBuffer) {
        guard let context, !closing else { return }
        closing = true
        timer?.cancel()
        timer = nil
        limiter.becameBusy(id)
        context.writeAndFlush(wrapInboundOut(answer), promise: nil)
        let channel = context.channel
        channel.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
    }

    // MARK: Timer

    /// Re-reads the clock after every change: tells the limiter whether the connection is idle and
    /// makes sure the timer fires no later than the next deadline.
    private func update() {
        guard let context, !closing else { return }
        let idle = clock.isIdle
        if idle != reportedIdle {
            reportedIdle = idle
            if idle {
                limiter.becameIdle(id, at: .now(), channel: context.channel)
            } else {
                limiter.becameBusy(id)
            }
        }
        guard let deadline = clock.deadline?.at else {
            timer?.cancel()
            timer = nil
            return
        }
        // A timer that fires early just re-reads the clock, so one set for an earlier instant stays.
        if let timerDeadline, timer != nil, timerDeadline <= deadline { return }
        timer?.cancel()
        timerDeadline = deadline
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: deadline) { loopBound.value.timerFired() }
    }

    private func timerFired() {
        timer = nil
        guard let context, !closing, let (deadline, reason) = clock.deadline else { return }
        if deadline <= .now() {
            closing = true
            metrics.closedConnection(reason)
            context.close(promise: nil)
        } else {
            update()
        }
    }
}

/// Whole HTTP/1.1 answers written as bytes, for connections the endpoint refuses before (or
/// instead of) parsing them: over the cap (503), a head too large (431).
enum RawHTTPAnswer {
    static func bytes(status: HTTPResponseStatusCode, message: String, headers: [(String, String)] = []) -> ByteBuffer {
        let body = HTTPResponse.error(.init(statusCode: status.rawValue), message).bodyBytes
        var text = "HTTP/1.1 \(status.rawValue) \(status.reason)\r\n"
        text += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        var buffer = ByteBuffer(string: text)
        buffer.writeBytes(body)
        return buffer
    }

    /// The statuses sent this way.
    enum HTTPResponseStatusCode: Int {
        case serviceUnavailable = 503
        case requestHeaderFieldsTooLarge = 431

        var reason: String {
            switch self {
            case .serviceUnavailable: "Service Unavailable"
            case .requestHeaderFieldsTooLarge: "Request Header Fields Too Large"
            }
        }
    }
}
