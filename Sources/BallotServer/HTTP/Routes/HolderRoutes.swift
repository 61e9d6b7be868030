import BallotRuntime
import NIOHTTP1
import Synchronization

/// Issue 15, released hand-overs: `GET /holder` and `POST /holder/stopped`, through which an
/// out-of-process holder of the lease (`ballot run`) tells the node when it has stopped.
///
/// `GET /holder` is `GET /events` that also registers the connection as a lease holder, named in
/// the `Ballot-Holder` response header, for as long as the stream stays open. After the lease ends
/// and its CMD's group is gone, the holder posts `POST /holder/stopped?id=ID&index=N` — N being the
/// index of the last event it read — and once every holder did, the node releases the lease and its
/// successor's lease begins at once. A holder whose stream closes without saying so may still be
/// acting, so the node then waits out the deadline it last published (``LeaseHolders``).
///
/// Both are reads as far as access goes (the `read` credential where `http_auth_reads` asks for
/// one): a holder can only make the node wait for its own confirmation, which at worst means the
/// published deadline, as without holders; and only the client that opened a stream knows its name.
public final class HolderRoutes: Sendable {
    /// More holders than this are refused (503): a hostile client cannot make the registry grow
    /// without bound (each also holds a connection, which the HTTP limits bound too).
    public static let defaultMaximumHolders = 1024

    private let view: LeadershipView
    private let hub: LeadershipEventHub
    private let maximumHolders: Int
    private let tokens = Mutex<[String: LeadershipView.HolderToken]>([:])

    public init(view: LeadershipView, hub: LeadershipEventHub, maximumHolders: Int = HolderRoutes.defaultMaximumHolders) {
        self.view = view
        self.hub = hub
        self.maximumHolders = maximumHolders
    }

    /// How many holders are connected.
    public var count: Int { tokens.withLock { $0.count } }

    /// `GET /holder`: the `/events` stream, registering a holder for its lifetime.
    public func stream(_ request: HTTPRequest) -> HTTPResponse {
        guard count < maximumHolders else {
            return .error(.serviceUnavailable, "\(maximumHolders) lease holders are connected already; "
                          + "close some, or follow GET /events without holding the lease")
        }
        var generator = SystemRandomNumberGenerator()
        let id = (0..<2).map { _ in
            let hex = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/event-stream")
        headers.add(name: "Cache-Control", value: "no-cache")
        headers.add(name: "X-Accel-Buffering", value: "no")
        headers.add(name: "Ballot-Holder", value: id)
        return HTTPResponse(status: .ok, headers: headers, body: .adopted { [self] sink in
            // Registered before the stream's first event is written: whatever lease that shows, the
            // holder may act under it, so its end must be confirmed.
            let token = view.registerHolder()
            tokens.withLock { $0[id] = token }
            hub.adopt(sink)
            sink.closed.whenComplete { [self] _ in leave(id, stopped: false) }
        })
    }

    /// `POST /holder/stopped?id=ID&index=N[&leaving=true]`: holder ID has stopped acting under
    /// every lease the stream showed up to index N; with `leaving`, it also goes away for good.
    public func stopped(_ request: HTTPRequest) -> HTTPResponse {
        guard let id = request.queryValue("id"), !id.isEmpty else {
            return .error(.badRequest, "give the holder's id (the Ballot-Holder header of its GET /holder) as ?id=")
        }
        guard let text = request.queryValue("index"), let index = UInt64(text) else {
            return .error(.badRequest, "give the index of the last event read as ?index=N, a whole number")
        }
        let leaving = request.queryValue("leaving") == "true"
        guard let token = tokens.withLock({ $0[id] }), view.holderStopped(token, through: index) else {
            return .error(.notFound, "no lease holder \(id): its GET /holder stream is closed (or never was); "
                          + "open a new one before acting under the lease")
        }
        if leaving { leave(id, stopped: true) }
        return .json(HolderStoppedBody(holder: id, stoppedThrough: min(index, view.current.index), leaving: leaving))
    }

    private func leave(_ id: String, stopped: Bool) {
        guard let token = tokens.withLock({ $0.removeValue(forKey: id) }) else { return }
        view.unregisterHolder(token, stopped: stopped)
    }
}

struct HolderStoppedBody: Encodable {
    var holder: String
    var stoppedThrough: UInt64
    var leaving: Bool

    enum CodingKeys: String, CodingKey {
        case holder
        case stoppedThrough = "stopped_through"
        case leaving
    }
}
