import NIOCore

/// The timing and size rules of one HTTP connection (``HTTPLimits``), as a state machine with no
/// I/O: the bytes, requests, answers and streams go in, and out come the next deadline and whether
/// a request head is too large. ``ConnectionGuard`` runs it on the connection's event loop.
///
/// - A new connection must deliver its first request whole within the request timeout (this
///   covers the TLS handshake and, for HTTP/2, the preface).
/// - HTTP/1.1: once a request's first byte arrives it must arrive whole (head and body) within the
///   request timeout; its head (request line and headers) may be at most `maxHeadSize` bytes.
///   Between requests the idle timeout applies.
/// - HTTP/2: with no open stream the idle timeout applies. Each stream's request has its own
///   request timeout (``HTTP2StreamDeadline``); head size is the protocol's header-list limit.
/// - While requests are being answered no timer runs, so blocking queries and event streams stay
///   open as long as their routes decide; but a connection the client has stopped reading (its
///   send buffer full) for the idle timeout is closed.
struct ConnectionClock {
    enum Mode: Equatable {
        case http1
        case http2
    }

    enum ReadVerdict: Equatable {
        case forward
        /// The current request's head exceeds the cap: answer 431 and close.
        case headTooLarge
    }

    let idleTimeout: TimeAmount
    let requestTimeout: TimeAmount
    let maxHeadSize: Int
    private(set) var mode = Mode.http1
    private let openedAt: NIODeadline
    /// Whether any request arrived whole (HTTP/1.1) or any stream opened (HTTP/2).
    private var hadRequest = false
    /// HTTP/1.1: the first byte of a request that has not yet arrived whole.
    private var receivingSince: NIODeadline?
    /// HTTP/1.1: the size of the current request's head so far, while it is arriving.
    private var head: HeadScanner?
    /// HTTP/1.1: requests received whose answer is not finished; HTTP/2: open streams.
    private var inFlight = 0
    private var quietSince: NIODeadline
    private var stalledSince: NIODeadline?

    init(limits: HTTPLimits, openedAt: NIODeadline) {
        idleTimeout = .nanoseconds(limits.idleTimeout.nanoseconds)
        requestTimeout = .nanoseconds(limits.requestTimeout.nanoseconds)
        maxHeadSize = limits.maxHeadSize
        self.openedAt = openedAt
        quietSince = openedAt
    }

    /// Waiting for a request, with nothing of one received: the connection may be evicted.
    var isIdle: Bool { inFlight == 0 && receivingSince == nil }

    /// When the connection must be closed if nothing changes, and why.
    var deadline: (at: NIODeadline, reason: HTTPCloseReason)? {
        var candidates: [(at: NIODeadline, reason: HTTPCloseReason)] = []
        if let stalledSince { candidates.append((stalledSince + idleTimeout, .stalled)) }
        if let receivingSince {
            candidates.append((receivingSince + requestTimeout, .requestTimeout))
        } else if inFlight == 0 {
            candidates.append(hadRequest ? (quietSince + idleTimeout, .idleTimeout) : (openedAt + requestTimeout, .requestTimeout))
        }
        return candidates.min { $0.at < $1.at }
    }

    /// Decrypted bytes from the client, before the HTTP codec sees them.
    mutating func read(_ buffer: ByteBuffer, at now: NIODeadline) -> ReadVerdict {
        guard mode == .http1 else { return .forward }
        if receivingSince == nil {
            receivingSince = now
            head = HeadScanner()
        }
        guard var scanner = head else { return .forward }
        switch scanner.scan(buffer.readableBytesView, limit: maxHeadSize) {
        case .incomplete: head = scanner
        case .complete: head = nil
        case .tooLarge: return .headTooLarge
        }
        return .forward
    }

    /// HTTP/1.1: a request arrived whole (its `end`).
    mutating func requestReceived(at now: NIODeadline) {
        receivingSince = nil
        head = nil
        hadRequest = true
        inFlight += 1
    }

    /// HTTP/1.1: an answer was written whole (its `end`).
    mutating func responseFinished(at now: NIODeadline) {
        inFlight = max(inFlight - 1, 0)
        if inFlight == 0 { quietSince = now }
    }

    /// The connection speaks HTTP/2 (by ALPN or prior knowledge): its bytes are frames from now on.
    mutating func switchToHTTP2() {
        mode = .http2
        receivingSince = nil
        head = nil
    }

    mutating func streamOpened(at now: NIODeadline) {
        hadRequest = true
        inFlight += 1
    }

    mutating func streamClosed(at now: NIODeadline) {
        inFlight = max(inFlight - 1, 0)
        if inFlight == 0 { quietSince = now }
    }

    /// The connection's send buffer went above (`false`) or back below (`true`) its high-water mark.
    mutating func writabilityChanged(_ writable: Bool, at now: NIODeadline) {
        if writable {
            stalledSince = nil
        } else if stalledSince == nil {
            stalledSince = now
        }
    }
}

/// Measures an HTTP/1.1 request head as it arrives: bytes up to and including the blank line that
/// ends it (CRLF CRLF, or bare LFs, which the parser accepts too).
struct HeadScanner: Equatable {
    enum Result: Equatable {
        case incomplete
        case complete
        case tooLarge
    }

    private(set) var size = 0
    /// 0: inside a line; 1: just after a line feed; 2: after a line feed and a carriage return.
    private var afterLineFeed = 0

    mutating func scan(_ bytes: some Sequence<UInt8>, limit: Int) -> Result {
        for byte in bytes {
            size += 1
            if size > limit { return .tooLarge }
            switch byte {
            case UInt8(ascii: "\n"):
                if afterLineFeed > 0 { return .complete }
                afterLineFeed = 1
            case UInt8(ascii: "\r"):
                afterLineFeed = afterLineFeed == 1 ? 2 : 0
            default:
                afterLineFeed = 0
            }
        }
        return .incomplete
    }
}
