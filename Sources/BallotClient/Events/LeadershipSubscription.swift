import BallotRuntime
import NIOCore
import NIOPosix
import Synchronization

/// Follows a node's `GET /events` for as long as the calling task runs: reconnects with
/// `Last-Event-ID` and a bounded backoff, decodes every event (``LeadershipStreamEvent``), and says
/// how each connection ended.
///
/// After a stream that delivered events it reconnects at once, so a node whose process died is
/// told apart at once (``Disconnect/refused``) from a stream that merely broke. Every stream starts
/// with `state`, which is authoritative: a subscriber that reconnects never relies on what it may
/// have missed. A stream silent for longer than ``Options/idleTimeout`` (the server sends a comment
/// every 15 s) is dropped and reopened.
public enum LeadershipSubscription {
    public struct Options: Sendable {
        public var host: String
        public var port: Int
        public var path = "/events"
        /// HTTPS when set.
        public var tls: HTTPClientTLS?
        /// Extra request headers (e.g. `Authorization`).
        public var headers: [(String, String)] = []
        public var connectTimeout: Duration = .seconds(1)
        /// No byte for this long (two keep-alives missed) ends the connection.
        public var idleTimeout: Duration = .seconds(35)
        /// Backoff after failed attempts: `minimumBackoff` doubling up to `maximumBackoff`, each wait
        /// drawn uniformly from its upper half.
        public var minimumBackoff: Duration = .milliseconds(50)
        public var maximumBackoff: Duration = .seconds(1)

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// The node at `target`, with its TLS and bearer token.
        public init(target: HTTPTarget) {
            host = target.address.hostString
            port = target.address.port
            tls = target.tls
            if let token = target.bearerToken { headers = [("Authorization", "Bearer \(token)")] }
        }
    }

    public enum Update: Sendable, Equatable {
        /// A stream is open (its `state` event follows); on `GET /holder`, with the holder name the
        /// node gave this connection (its `Ballot-Holder` header).
        case connected(holder: String?)
        case event(LeadershipStreamEvent)
        /// An event this client does not understand was skipped (a newer server); counted, not fatal.
        case skipped(String)
        case disconnected(Disconnect)
    }

    /// How a connection ended, or why it could not be opened.
    public enum Disconnect: Sendable, Equatable, CustomStringConvertible {
        /// Nothing listens at the address (ECONNREFUSED): on the same machine, the node's process is gone.
        case refused
        /// The stream ended or broke.
        case closed(String)
        /// No byte within the idle timeout.
        case idle
        /// The node answered, but not with an event stream.
        case httpStatus(Int, String)
        /// The stream broke the contract (bad data, no `state` first): dropped, then reopened.
        case badStream(String)
        /// Connecting failed otherwise (timeout, name resolution…).
        case failed(String)

        public var description: String {
            switch self {
            case .refused: "connection refused: the node's process is not running"
            case .closed(let detail): "stream closed (\(detail))"
            case .idle: "stream silent for too long"
            case .httpStatus(let status, let body):
                "GET /events answered HTTP \(status)\(body.isEmpty ? "" : ": \(body)")"
                    + (status == 401 || status == 403 ? " (give the node's token)" : "")
                    + (status == 404 ? " (the node does not serve /events: upgrade it)" : "")
            case .badStream(let detail): "not a valid /events stream: \(detail)"
            case .failed(let detail): detail
            }
        }
    }

    /// Runs until the calling task is cancelled, calling `onUpdate` in order.
    public static func run(_ options: Options, onUpdate: @escaping @Sendable (Update) async -> Void) async {
        var lastEventID: String?
        var failures = 0
        var lastImmediate: MonotonicInstant?
        var random = SystemRandomNumberGenerator()
        while !Task.isCancelled {
            let (disconnect, delivered) = await streamOnce(options, lastEventID: &lastEventID, onUpdate: onUpdate)
            if Task.isCancelled { return }
            await onUpdate(.disconnected(disconnect))
            if delivered {
                failures = 0
                // At once after a stream that worked (a dead node shows as refused right away), but at
                // most once a second, so a server that keeps closing streams is not hammered.
                let now = SystemMonotonicClock.now
                if lastImmediate.map({ now - $0 >= .seconds(1) }) ?? true {
                    lastImmediate = now
                    continue
                }
            }
            failures += 1
            let ceiling = min(options.maximumBackoff, options.minimumBackoff * (1 << min(failures - 1, 20)))
            let wait = ceiling / 2 + .nanoseconds(Int64.random(in: 0...max(0, (ceiling / 2).nanoseconds), using: &random))
            try? await Task.sleep(for: wait)
        }
    }

    /// One connection: returns how it ended and whether it delivered any event.
    static func streamOnce(_ options: Options, lastEventID: inout String?,
                           onUpdate: @escaping @Sendable (Update) async -> Void) async -> (Disconnect, Bool) {
        var requestHeaders = [("Accept", "text/event-stream"), ("Cache-Control", "no-cache")] + options.headers
        if let lastEventID, !lastEventID.isEmpty { requestHeaders.append(("Last-Event-ID", lastEventID)) }
        let headers = requestHeaders
        let activity = Activity()
        let previousID = lastEventID
        let outcome: Disconnect = await withTaskGroup(of: Disconnect?.self) { group in
            group.addTask {
                // The watchdog: ends the connection once nothing arrived for the idle timeout.
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(500))
                    if SystemMonotonicClock.now - activity.last > options.idleTimeout { return .idle }
                }
                return nil
            }
            group.addTask {
                var id = previousID
                var delivered = false
                let disconnect = await read(options, headers: headers, activity: activity, onUpdate: onUpdate,
                                            lastEventID: &id, delivered: &delivered)
                activity.finish(lastEventID: id, delivered: delivered)
                return disconnect
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .closed("cancelled")
        }
        let result = activity.result
        lastEventID = result.lastEventID
        return (outcome, result.delivered)
    }

    private static func read(_ options: Options, headers: [(String, String)], activity: Activity,
                             onUpdate: @escaping @Sendable (Update) async -> Void, lastEventID: inout String?,
                             delivered: inout Bool) async -> Disconnect {
        var parser = ServerSentEventParser()
        var sawState = false
        do {
            return try await HTTPClient.withStreamedResponse(
                .GET, host: options.host, port: options.port, path: options.path, tls: options.tls, headers: headers,
                connectTimeout: options.connectTimeout
            ) { head, body in
                activity.touch()
                guard head.status == 200 else {
                    var text: [UInt8] = []
                    while text.count < 512, let chunk = try await body.next() { text += chunk }
                    return .httpStatus(head.status, String(decoding: text.prefix(512), as: UTF8.self))
                }
                let type = head.header("Content-Type") ?? ""
                guard type.lowercased().hasPrefix("text/event-stream") else {
                    return .badStream("Content-Type is \"\(type)\", not text/event-stream")
                }
                await onUpdate(.connected(holder: head.header("Ballot-Holder")))
                while let chunk = try await body.next() {
                    activity.touch()
                    let events: [ServerSentEvent]
                    do throws(ServerSentEventParser.Problem) {
                        events = try parser.feed(chunk)
                    } catch {
                        return .badStream(error.description)
                    }
                    for raw in events {
                        let event: LeadershipStreamEvent
                        do throws(LeadershipStreamEvent.Problem) {
                            event = try LeadershipStreamEvent(raw)
                        } catch {
                            if case .unknownType(let type) = error {
                                await onUpdate(.skipped("unknown event type \"\(type)\""))
                                continue
                            }
                            return .badStream(error.description)
                        }
                        if !sawState {
                            guard case .state = event.detail else {
                                return .badStream("the first event was \"\(event.kind.rawValue)\", not \"state\"")
                            }
                            sawState = true
                        }
                        lastEventID = raw.lastEventID
                        delivered = true
                        await onUpdate(.event(event))
                    }
                }
                return .closed("the node ended the response")
            }
        } catch let failure as HTTPClient.StreamFailure {
            if case .refused = failure { return .refused }
            return .closed(failure.description)
        } catch {
            if Task.isCancelled { return .closed("cancelled") }
            if delivered { return .closed("\(error)") }
            return .failed("cannot reach \(options.tls == nil ? "http" : "https")://\(options.host):\(options.port)\(options.path): \(error)")
        }
    }

    /// When the stream last showed a sign of life, and what the reading task learnt.
    final class Activity: Sendable {
        private let lastNanoseconds = Atomic<UInt64>(SystemMonotonicClock.now.nanoseconds)
        private let outcome = Mutex<(lastEventID: String?, delivered: Bool)>((nil, false))

        var last: MonotonicInstant { MonotonicInstant(nanoseconds: lastNanoseconds.load(ordering: .relaxed)) }
        func touch() { lastNanoseconds.store(SystemMonotonicClock.now.nanoseconds, ordering: .relaxed) }
        func finish(lastEventID: String?, delivered: Bool) { outcome.withLock { $0 = (lastEventID, delivered) } }
        var result: (lastEventID: String?, delivered: Bool) { outcome.withLock { $0 } }
    }
}
