import BallotClient
import BallotCore
import BallotRuntime
import Foundation
import NIOHTTP1

/// Issue 15's HTTP routes, for applications that follow leadership over HTTP: `GET /leader` with
/// its blocking query, `GET /events` (Server-Sent Events), `GET`/`HEAD /primary`, `POST /resign`
/// and `PUT /candidacy`. Each handler is a self-contained function of the request over the node's
/// leadership view (and, for the two that change the node, its actor).
///
/// Route names and access, for the route table: `leader` (read), `events` (read), `primary` (read,
/// GET and HEAD), `resign` (change), `candidacy` (change).
///
/// The reads serve any producer of the leadership view — the Raft node or an etcd/ZooKeeper
/// backend — unchanged. Resignation and candidacy are the Raft core's: a backend node refuses them
/// with 409 and says what to do instead (``backendRefusal(_:)``).
public struct ApplicationRoutes: Sendable {
    let node: any ServedNode
    let hub: LeadershipEventHub

    /// The Raft node, which alone resigns with a hold-off, keeps a candidacy and knows its peers'
    /// advertised URLs; nil on a node elected through a backend.
    var raft: BallotNode? { node as? BallotNode }

    /// The longest a blocking query may wait (`wait=`), and its default when `index` is given alone.
    public static let maximumWait = Duration.seconds(300)

    public init(node: any ServedNode, hub: LeadershipEventHub) {
        self.node = node
        self.hub = hub
    }

    // MARK: GET /leader

    /// `GET /leader[?index=N[&wait=30s]]`: the view now; with `index`, once the view's index exceeds
    /// N or `wait` (default and at most 5 minutes) runs out, whichever is first.
    public func leader(_ request: HTTPRequest) async -> HTTPResponse {
        let index: UInt64?
        switch request.queryValue("index") {
        case nil: index = nil
        case let text?:
            guard let value = UInt64(text), text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
                return .error(.badRequest, "index must be a whole number such as 12 (the index of the last answer), got \"\(text)\"")
            }
            index = value
        }
        var wait = Self.maximumWait
        if let text = request.queryValue("wait") {
            guard index != nil else { return .error(.badRequest, "wait goes with index: GET /leader?index=N&wait=30s") }
            do {
                wait = try DurationParser.parse(text)
            } catch {
                return .error(.badRequest, "wait: \(error)")
            }
            guard wait <= Self.maximumWait else {
                return .error(.badRequest, "wait \(text) is longer than the 5m a blocking query may wait")
            }
        }
        if let index { _ = await hub.waitForIndex(above: index, timeout: wait) }
        return await currentLeader()
    }

    /// The `/leader` body now, with the lease judged at this instant.
    func currentLeader() async -> HTTPResponse {
        await node.catchUp()
        let now = SystemMonotonicClock.now
        let state = node.view.current
        let leading = state.isLeader(at: now)
        let remaining: Double? = leading && state.lease != .unbounded ? state.leaseRemaining(at: now)?.milliseconds : nil
        let leader = state.halt == nil ? state.leader?.id : nil
        var response = HTTPResponse.json(LeaderView(
            self: node.id.rawValue, leader: leader?.rawValue, term: state.term.rawValue, isLeader: leading,
            index: state.index, leaseRemainingMs: remaining, leaderHttp: leader.flatMap { raft?.members.advertisedHTTP(of: $0) }))
        response.headers.add(name: "X-Ballot-Index", value: String(state.index))
        return response
    }

    // MARK: GET /events

    /// `GET /events`: Server-Sent Events per docs/applications.md — the state first, then every
    /// `elected`, `lost` and `lease` change, a `: keep-alive` comment every 15 s. `Last-Event-ID` is
    /// accepted; the stream always begins with the state, whose index tells the client whether it
    /// missed changes. The stream is adopted by the hub: no task per subscriber, and over HTTP/1.1
    /// no HTTP codec either once the head is written.
    public func events(_ request: HTTPRequest) -> HTTPResponse {
        let hub = self.hub
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/event-stream")
        headers.add(name: "Cache-Control", value: "no-cache")
        headers.add(name: "X-Accel-Buffering", value: "no")
        return HTTPResponse(status: .ok, headers: headers, body: .adopted { sink in hub.adopt(sink) })
    }

    // MARK: GET, HEAD /primary

    /// `GET`/`HEAD /primary`: 200 only while this node holds a valid lease, else 503 — for load
    /// balancers (HAProxy, Envoy) and Kubernetes readiness. Reads the view alone, never the actor,
    /// so it answers at once even while the node is busy.
    public func primary(_ request: HTTPRequest) -> HTTPResponse {
        let state = node.view.current
        var response: HTTPResponse
        if state.isLeader(at: SystemMonotonicClock.now) {
            response = .text(.ok, "primary: node \(node.id) leads term \(state.term)")
        } else {
            let leader = state.leader.map { "node \($0.id) leads term \($0.term)" } ?? "no leader is known"
            response = .text(.serviceUnavailable, "not primary: \(leader)")
        }
        response.headers.add(name: "X-Ballot-Term", value: String(state.term.rawValue))
        response.headers.add(name: "Cache-Control", value: "no-store")
        return response
    }

    // MARK: POST /resign

    /// `POST /resign[?hold_off=2s]`: the leader hands over to its best eligible follower and then
    /// holds off campaigning (default: `resign_hold_off`, one election timeout unless configured).
    /// Answers once the hand-over ended.
    public func resign(_ request: HTTPRequest) async -> HTTPResponse {
        guard let node = raft else { return backendRefusal("POST /resign") }
        var holdOff = node.resignHoldOff
        if let text = request.queryValue("hold_off") {
            do {
                holdOff = try DurationParser.parse(text)
            } catch {
                return .error(.badRequest, "hold_off: \(error)")
            }
            guard holdOff <= Self.maximumWait else {
                return .error(.badRequest, "hold_off \(text) is longer than 5m; make the node ineligible instead (PUT /candidacy)")
            }
        }
        do {
            let outcome = try await node.resign(holdOff: holdOff)
            let leader = node.view.current.leader
            let body: ResignBody
            switch outcome {
            case .handedOver(let target):
                body = ResignBody(outcome: "handed_over", to: target.rawValue, holdOffMs: holdOff.milliseconds,
                                  leader: leader?.id.rawValue, term: leader?.term.rawValue)
            case .steppedDown:
                body = ResignBody(outcome: "stepped_down", to: nil, holdOffMs: holdOff.milliseconds,
                                  leader: leader?.id.rawValue, term: leader?.term.rawValue)
            }
            return .json(body)
        } catch {
            return .error(.conflict, error.description)
        }
    }

    // MARK: PUT /candidacy

    /// `PUT /candidacy` with `{"eligible": false}` or `{"eligible": true}`: saved in the data
    /// directory before the node acts on it; a leader made ineligible hands over first (the answer
    /// says to whom and how it went).
    public func candidacy(_ request: HTTPRequest) async -> HTTPResponse {
        guard let node = raft else { return backendRefusal("PUT /candidacy") }
        let eligible: Bool
        switch CandidacyRequest.parse(request.body) {
        case .success(let value): eligible = value
        case .failure(let problem): return .error(.badRequest, problem.description)
        }
        do {
            let change = try await node.setEligible(eligible)
            return .json(CandidacyBody(
                eligible: change.candidacy.eligible, priority: change.candidacy.priority,
                handover: change.handover.map { CandidacyBody.Handover(to: $0.target.rawValue, outcome: $0.outcome.rawValue) }))
        } catch {
            switch error {
            case .unsupported: return .error(.conflict, error.description)
            case .notPersisted: return .error(.internalServerError, error.description)
            case .halted: return .error(.serviceUnavailable, error.description)
            }
        }
    }
}

extension ApplicationRoutes {
    /// 409 on a node elected through etcd or ZooKeeper: its leadership is the coordination
    /// service's, which has no hold-off and no eligibility that survives the node. Nothing is done.
    func backendRefusal(_ route: String) -> HTTPResponse {
        let service = (node as? BackendNode)?.backend.kind.rawValue ?? "a coordination service"
        return .error(.conflict, "\(route) is not available on a node elected through \(service): resignation with a hold-off "
            + "and candidacy belong to Ballot's own Raft election; to give up leadership, stop this node (SIGTERM gives up "
            + "its \(service) candidacy at once) and start it again once another node leads; nothing was done")
    }
}

struct ResignBody: Encodable {
    var outcome: String
    var to: UInt64?
    var holdOffMs: Double
    /// The leader this node knows after the hand-over, and its term.
    var leader: UInt64?
    var term: UInt64?

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(outcome, forKey: .outcome)
        try container.encode(to, forKey: .to)
        try container.encode(holdOffMs, forKey: .holdOffMs)
        try container.encode(leader, forKey: .leader)
        try container.encode(term, forKey: .term)
    }

    enum CodingKeys: String, CodingKey { case outcome, to, holdOffMs, leader, term }
}

struct CandidacyBody: Encodable {
    struct Handover: Encodable {
        var to: UInt64
        var outcome: String
    }

    var eligible: Bool
    var priority: UInt16
    var handover: Handover?

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(eligible, forKey: .eligible)
        try container.encode(priority, forKey: .priority)
        try container.encode(handover, forKey: .handover)
    }

    enum CodingKeys: String, CodingKey { case eligible, priority, handover }
}

/// The body of `PUT /candidacy`: exactly `{"eligible": true}` or `{"eligible": false}`.
enum CandidacyRequest {
    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    static func parse(_ body: [UInt8]) -> Result<Bool, Problem> {
        let example = "send {\"eligible\": false} or {\"eligible\": true}"
        guard !body.isEmpty else { return .failure(Problem(description: "the body is empty; \(example)")) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            return .failure(Problem(description: "the body is not a JSON object; \(example)"))
        }
        guard object["eligible"] != nil else {
            return .failure(Problem(description: "the body has no \"eligible\" member; \(example)"))
        }
        if let unknown = object.keys.sorted().first(where: { $0 != "eligible" }) {
            return .failure(Problem(description: "unknown member \"\(unknown)\"; \(example)"))
        }
        // The decoder takes only a JSON boolean for a Bool (not 0, 1 or "false").
        struct Body: Decodable { var eligible: Bool }
        guard let decoded = try? JSONDecoder().decode(Body.self, from: Data(body)) else {
            return .failure(Problem(description: "\"eligible\" must be true or false; \(example)"))
        }
        return .success(decoded.eligible)
    }
}
