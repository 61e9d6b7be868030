import BallotClient
import BallotCore
import BallotRuntime
import Foundation
import NIOHTTP1

/// What each HTTP path answers. Kept apart from the server plumbing so it reads as an API.
public struct HTTPRoutes: Sendable {
    let node: any ServedNode
    /// How long a follower may go without news of a live leader and still be ready: the election
    /// timeout, or a backend's lease TTL / session timeout.
    let electionTimeout: Duration

    public init(node: any ServedNode, electionTimeout: Duration) {
        self.node = node
        self.electionTimeout = electionTimeout
    }

    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        switch (request.method, request.path) {
        case (.GET, "/healthz"): return await health()
        case (.GET, "/readyz"): return await readiness()
        case (.GET, "/leader"): return await leader()
        case (.GET, "/status"): return await status()
        case (.GET, "/metrics"): return metrics()
        case (.POST, "/transfer"): return await transfer(request)
        case (_, "/healthz"), (_, "/readyz"), (_, "/leader"), (_, "/status"), (_, "/metrics"), (_, "/transfer"):
            return .text(.methodNotAllowed, "method \(request.method) not allowed on \(request.path)")
        default:
            return .text(.notFound, "no such path: \(request.path); try /healthz /readyz /leader /status /metrics or POST /transfer?to=ID")
        }
    }

    /// 200 while the process serves and can persist its state.
    func health() async -> HTTPResponse {
        if let halt = node.view.current.halt { return .text(.serviceUnavailable, "halted: \(halt)") }
        return .text(.ok, "ok")
    }

    /// 200 only while a live leader is known: this node with a valid lease, or a leader heard from
    /// within the election timeout. So it turns 503 within one election timeout of losing the leader.
    func readiness() async -> HTTPResponse {
        await node.catchUp()
        let state = node.view.current
        if state.hasLiveLeader(at: SystemMonotonicClock.now, electionTimeout: electionTimeout) {
            return .text(.ok, "leader \(state.leader.map { "\($0.id)" } ?? "-") term \(state.term)")
        }
        return .text(.serviceUnavailable, "no live leader known")
    }

    func leader() async -> HTTPResponse {
        let leadership = await node.leadership
        return .json(LeaderView(self: node.id.rawValue, leader: leadership.leader?.rawValue,
                                term: leadership.term.rawValue, isLeader: leadership.isSelf))
    }

    func status() async -> HTTPResponse {
        .json(await node.statusReport(wallClockNow: Date().timeIntervalSince1970))
    }

    func metrics() -> HTTPResponse {
        let body = node.recorder.render(now: SystemMonotonicClock.now, wallClockNow: Date().timeIntervalSince1970)
        return HTTPResponse(status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: body)
    }

    /// `POST /transfer?to=ID`: hands leadership over and reports how it ended.
    func transfer(_ request: HTTPRequest) async -> HTTPResponse {
        guard let text = request.queryValue("to"), let raw = UInt64(text), let target = NodeID(raw) else {
            return .json(TransferBody(ok: false, outcome: nil, error: "give the target as ?to=ID, a positive node ID"),
                         status: .badRequest)
        }
        do {
            let outcome = try await node.transferLeadership(to: target)
            let leadership = await node.leadership
            return .json(TransferBody(ok: outcome == .completed, outcome: outcome.rawValue, error: nil,
                                      leader: leadership.leader?.rawValue, term: leadership.term.rawValue),
                         status: outcome == .completed ? .ok : .conflict)
        } catch {
            return .json(TransferBody(ok: false, outcome: nil, error: error.description), status: .conflict)
        }
    }
}

struct TransferBody: Encodable {
    var ok: Bool
    var outcome: String?
    var error: String?
    var leader: UInt64?
    var term: UInt64?
}

extension HTTPResponse {
    static func json(_ value: some Encodable, status: HTTPResponseStatus = .ok) -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let body = (try? encoder.encode(value)).map { Array($0) + [0x0A] } ?? Array("{}\n".utf8)
        return HTTPResponse(status: status, contentType: "application/json", body: body)
    }
}
