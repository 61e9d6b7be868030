import Foundation
import NIOCore
import NIOHTTP1

/// One HTTP/1.1 connection to one etcd endpoint and the one exchange on it: a unary request
/// waiting for its whole answer, or a stream handing out one message per line. Confined to the
/// gateway's actor (its event loop).
final class GatewayConnection {
    enum Exchange {
        case idle
        case unary(CheckedContinuation<Result<GatewayResponse, GatewayError>, Never>)
        /// `opened` is resumed once the head arrives (or the stream fails first); then messages go to `sink`.
        case stream(opened: CheckedContinuation<Result<Void, GatewayError>, Never>?,
                    sink: AsyncThrowingStream<[UInt8], any Error>.Continuation)
    }

    let id: UInt64
    /// The index of the endpoint, in the gateway's list.
    let endpoint: Int
    let name: String
    let limits: GatewayLimits
    var channel: (any Channel)?
    var exchange = Exchange.idle
    private(set) var path = ""
    private var timer: Scheduled<Void>?
    private var status = 0
    private var keepAlive = false
    private var body: [UInt8] = []

    init(id: UInt64, endpoint: Int, name: String, limits: GatewayLimits) {
        self.id = id
        self.endpoint = endpoint
        self.name = name
        self.limits = limits
    }

    var isOpen: Bool { channel?.isActive ?? false }

    /// Sends a POST of `body` to `path` and waits for `exchange` to complete; `onTimeout` runs (on
    /// the loop) if the answer (for a stream: its head) is not in within `timeout`.
    func begin(_ exchange: Exchange, path: String, body requestBody: [UInt8], headers: HTTPHeaders, timeout: Duration,
               on loop: any EventLoop, onTimeout: @escaping @Sendable () -> Void) {
        self.exchange = exchange
        self.path = path
        status = 0
        keepAlive = false
        body.removeAll(keepingCapacity: true)
        guard let channel, channel.isActive else {
            fail(.closed(endpoint: name))
            return
        }
        timer = loop.scheduleTask(in: .nanoseconds(timeout.nanosecondsForNIO), onTimeout)
        var headers = headers
        headers.add(name: "Content-Length", value: String(requestBody.count))
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path, headers: headers)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: requestBody))), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    }

    /// Takes one response part; returns an error that ends the connection, if any.
    func received(_ part: HTTPClientResponsePart) -> GatewayError? {
        switch part {
        case .head(let head):
            status = Int(head.status.code)
            keepAlive = head.isKeepAlive
            if case .stream(let opened?, let sink) = exchange, status == 200 {
                timer?.cancel()
                timer = nil
                exchange = .stream(opened: nil, sink: sink)
                opened.resume(returning: .success(()))
            }
        case .body(var buffer):
            guard body.count + buffer.readableBytes <= limits.maxMessageBytes else {
                return .oversized(endpoint: name, path: path, limit: limits.maxMessageBytes)
            }
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
            if case .stream(nil, let sink) = exchange { emitLines(to: sink) }
        case .end:
            timer?.cancel()
            timer = nil
            switch exchange {
            case .idle:
                break
            case .unary(let continuation):
                exchange = .idle
                if status == 200 {
                    continuation.resume(returning: .success(GatewayResponse(status: status, body: body, keepAlive: keepAlive)))
                } else {
                    continuation.resume(returning: .failure(serviceError()))
                }
            case .stream(let opened?, _):
                exchange = .idle
                opened.resume(returning: .failure(serviceError()))
            case .stream(nil, let sink):
                exchange = .idle
                if !body.isEmpty { sink.yield(body) }
                sink.finish()
            }
            body.removeAll(keepingCapacity: true)
        }
        return nil
    }

    /// Ends whatever exchange is open with `error` (each waiter is resumed exactly once).
    func fail(_ error: GatewayError) {
        timer?.cancel()
        timer = nil
        let open = exchange
        exchange = .idle
        switch open {
        case .idle: break
        case .unary(let continuation): continuation.resume(returning: .failure(error))
        case .stream(let opened?, let sink):
            opened.resume(returning: .failure(error))
            sink.finish(throwing: error)
        case .stream(nil, let sink): sink.finish(throwing: error)
        }
    }

    /// Hands out every complete line (one message each) and keeps the rest.
    private func emitLines(to sink: AsyncThrowingStream<[UInt8], any Error>.Continuation) {
        var start = 0
        while let newline = body[start...].firstIndex(of: 0x0A) {
            let line = Array(body[start..<newline])
            start = newline + 1
            if line.contains(where: { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }) { sink.yield(line) }
        }
        if start > 0 { body.removeFirst(start) }
    }

    /// The gateway's error answer: `{"error": …, "code": N, "message": …}`, or as much of it as parses.
    private func serviceError() -> GatewayError {
        var code: Int?
        var message = "HTTP \(status)"
        if let text = String(validating: body.prefix(300), as: UTF8.self), !text.isEmpty, text.first != "{" {
            // Not JSON: etcd's gateway answers some refusals in plain text (e.g. a client certificate
            // with a CommonName while authentication is on).
            message = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else if let object = try? GatewayObject(parsing: body, context: path) {
            code = (try? object.int64("code")).map { Int(clamping: $0) }
            if let text = (try? object.string("message")) ?? nil ?? (try? object.string("error")) ?? nil {
                message = text
            } else if let nested = try? object.object("error") {
                code = (try? nested.int64("grpc_code")).map { Int(clamping: $0) } ?? code
                message = ((try? nested.string("message")) ?? nil) ?? message
            }
        }
        return .service(endpoint: name, path: path, status: status, code: code, message: String(message.prefix(500)))
    }
}
