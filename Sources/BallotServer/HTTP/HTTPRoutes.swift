import BallotClient
import BallotCore
import BallotRuntime
import Foundation
import NIOHTTP1

/// What each HTTP path answers. Kept apart from the server plumbing so it reads as an API.
public struct HTTPRoutes: Sendable {
    let node: BallotNode
    let electionTimeout: Duration
    /// Issue 15's routes (ApplicationRoutes.swift): leader with blocking query, events, primary,
    /// resign, candidacy.
    let applications: ApplicationRoutes

    public init(node: BallotNode, electionTimeout: Duration, hub: LeadershipEventHub) {
        self.node = node
        self.electionTimeout = electionTimeout
        self.applications = ApplicationRoutes(node: node, hub: hub)
    }

    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        switch (request.method, request.path) {
        case (.GET, "/healthz"): return await health()
        case (.GET, "/readyz"): return await readiness()
        case (.GET, "/leader"): return await applications.leader(request)
        case (.GET, "/status"): return await status()
        case (.GET, "/metrics"): return metrics()
        case (.POST, "/transfer"): return await transfer(request)
        case (.GET, "/events"): return applications.events(request)
        case (.GET, "/primary"), (.HEAD, "/primary"): return applications.primary(request)
        case (.POST, "/resign"): return await applications.resign(request)
        case (.PUT, "/candidacy"): return await applications.candidacy(request)
        case (_, "/healthz"), (_, "/readyz"), (_, "/leader"), (_, "/status"), (_, "/metrics"), (_, "/transfer"),
            (_, "/events"), (_, "/primary"), (_, "/resign"), (_, "/candidacy"):
            return .error(.methodNotAllowed, "method \(request.method) not allowed on \(request.path)")
        default:
            return .error(.notFound, "no such path: \(request.path); try GET /healthz /readyz /leader /status /metrics /events "
                + "/primary, POST /transfer?to=ID /resign, PUT /candidacy")
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
