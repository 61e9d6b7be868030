import BallotClient
import BallotCore
import BallotRuntime
import Foundation
import NIOHTTP1

/// What each HTTP path of a node answers: the node's route table. Kept apart from the server
/// plumbing so that it reads as an API; a new route is one `router.add` line and its handler.
public struct HTTPRoutes: Sendable {
    let node: any ServedNode
    /// How long a follower may go without news of a live leader and still be ready: the election
    /// timeout, or a backend's lease TTL / session timeout.
    let electionTimeout: Duration
    /// Issue 15's routes (ApplicationRoutes.swift): leader with blocking query, events, primary,
    /// resign, candidacy.
    let applications: ApplicationRoutes
    /// Lease holders out of process (HolderRoutes.swift): `GET /holder`, `POST /holder/stopped`.
    let holders: HolderRoutes

    public init(node: any ServedNode, electionTimeout: Duration, hub: LeadershipEventHub) {
        self.node = node
        self.electionTimeout = electionTimeout
        self.applications = ApplicationRoutes(node: node, hub: hub)
        self.holders = HolderRoutes(view: node.view, hub: hub)
    }

    /// The route table. Route names are the `route` label of the request metrics.
    public var router: HTTPRouter {
        var router = HTTPRouter()
        router.add("status_page", .GET, path: "/") { _ in StatusPage.response }
        router.add("healthz", .GET, path: "/healthz") { _ in health() }
        router.add("readyz", .GET, path: "/readyz") { _ in await readiness() }
        router.add("leader", .GET, path: "/leader") { await applications.leader($0) }
        router.add("status", .GET, path: "/status") { _ in await status() }
        router.add("metrics", .GET, path: "/metrics") { _ in metrics() }
        router.add("transfer", .POST, path: "/transfer", access: .change) { await transfer($0) }
        router.add("events", .GET, path: "/events") { applications.events($0) }
        router.add("primary", .GET, path: "/primary") { applications.primary($0) }
        router.add("resign", .POST, path: "/resign", access: .change) { await applications.resign($0) }
        router.add("candidacy", .PUT, path: "/candidacy", access: .change) { await applications.candidacy($0) }
        router.add("holder", .GET, path: "/holder") { holders.stream($0) }
        router.add("holder_stopped", .POST, path: "/holder/stopped") { holders.stopped($0) }
        return router
    }

    /// 200 while the process serves and can persist its state. Reads the leadership view only, so
    /// it answers even while the node's loop is busy.
    func health() -> HTTPResponse {
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

    /// Reads only the recorder: a scrape never waits on the node.
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
        if let forwarded = await forwardTransferToTheLeader(request, target: target) { return forwarded }
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

extension HTTPRoutes {
    /// The header a forwarded transfer carries (the forwarding node's ID), so it is forwarded once.
    static let forwardedByHeader = "Ballot-Forwarded-By"

    /// `POST /transfer` on a Raft follower: carried out through the leader (issue 16). The request
    /// has already passed this node's authorization; it goes to the leader's advertised HTTP URL
    /// with the caller's own `Authorization` header, so the leader decides on the caller's
    /// credentials and a follower never lends its own (nor logs the token: it is copied, never
    /// printed). A caller known only by a client certificate, a leader that advertises no URL, or
    /// a request already forwarded once, is answered by this node as before.
    func forwardTransferToTheLeader(_ request: HTTPRequest, target: NodeID) async -> HTTPResponse? {
        guard let raft = node as? BallotNode, request.headers[Self.forwardedByHeader].isEmpty else { return nil }
        let leadership = await raft.leadership
        guard !leadership.isSelf, let leader = leadership.leader, leader != raft.id,
              let url = raft.members.advertisedHTTP(of: leader)
        else { return nil }
        var headers = [(Self.forwardedByHeader, "\(raft.id)")]
        if let authorization = request.headers["Authorization"].first { headers.append(("Authorization", authorization)) }
        do {
            let tls = url.lowercased().hasPrefix("https://") ? try HTTPClientTLS() : nil
            let response = try await HTTPClient.request(
                .POST, try HTTPTarget(url: url, tls: tls), path: "/transfer?to=\(target)", headers: headers,
                timeout: electionTimeout * 3 + .seconds(5))
            var answer = HTTPResponse(status: HTTPResponseStatus(statusCode: response.status),
                                      contentType: "application/json", body: response.body)
            answer.headers.add(name: "Ballot-Forwarded-To", value: "\(leader)")
            return answer
        } catch {
            return .json(TransferBody(ok: false, outcome: nil,
                                      error: "node \(raft.id) could not reach the leader, node \(leader) at \(url): \(error); ask it directly"),
                         status: .badGateway)
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
