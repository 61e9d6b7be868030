import BallotClient
import BallotCore
import BallotRuntime
import NIOCore

/// The `GET /events` wire format (docs/applications.md): one Server-Sent Event per leadership
/// change, `id` the view's change index after it, `data` one JSON object on one line with
/// snake_case keys and every absent value written as `null`. Event types and keys are the
/// contract's names in BallotClient (``LeadershipStreamEvent/Kind``, ``LeadershipStreamEvent/Key``),
/// the ones the client decodes with: one definition for both sides.
///
/// `is_leader` must be judged at the instant the event is written, so an event is encoded once
/// with each value, into chunks every subscriber shares (framed for HTTP/1.1 too);
/// ``chunk(isLeader:)`` picks one.
struct EncodedLeadershipEvent: Sendable {
    private let leading: StreamChunk
    private let following: StreamChunk
    /// The view's index after the event, and whether the event changed it (lease extensions do not).
    let index: UInt64
    let changesIndex: Bool
    /// Set for a lease event that only moved the deadline: a later extension of the same term
    /// supersedes it, so a subscriber that is behind may skip it.
    let isExtension: Bool
    let term: Term

    func chunk(isLeader: Bool) -> StreamChunk { isLeader ? leading : following }

    func bytes(isLeader: Bool) -> ByteBuffer { chunk(isLeader: isLeader).payload }

    /// A comment line that keeps idle connections (and proxies) from timing out.
    static let keepAlive = StreamChunk(": keep-alive\n\n")

    /// The first event of every stream: the state when the subscription began.
    init(state: LeadershipState, node: NodeID, at now: MonotonicInstant) {
        var fields = JSONFields()
        fields.common(node: node, term: state.term, index: state.index, leader: state.leader?.id, monoNs: now)
        switch state.isLeader(at: now) ? state.lease : .none {
        case .unbounded:
            fields.add(.leaseUntilMonoNs, nil as UInt64?)
            fields.add(.leaseUnbounded, true)
        case .until(let deadline):
            fields.add(.leaseUntilMonoNs, deadline.nanoseconds)
            fields.add(.leaseUnbounded, false)
        case .none:
            fields.add(.leaseUntilMonoNs, nil as UInt64?)
            fields.add(.leaseUnbounded, false)
        }
        self.init(kind: .state, index: state.index, changesIndex: true, term: state.term, fields: fields)
    }

    /// One change of the view. `changesIndex`: whether the index moved with it (lease extensions
    /// keep it); `leader`: the leader the view shows right after a lease event.
    init(event: LeadershipEvent, node: NodeID, changesIndex: Bool, leader viewLeader: NodeID?) {
        var fields = JSONFields()
        switch event {
        case .elected(let leader, let term, let isSelf, let leaderless, _, let index, let at):
            fields.common(node: node, term: term, index: index, leader: leader, monoNs: at)
            fields.add(.isSelf, isSelf)
            fields.add(.leaderlessMs, leaderless?.milliseconds)
            self.init(kind: .elected, index: index, changesIndex: true, term: term, fields: fields)
        case .lost(let previous, let term, let index, let at):
            fields.common(node: node, term: term, index: index, leader: nil, monoNs: at)
            fields.add(.previous, previous.rawValue)
            self.init(kind: .lost, index: index, changesIndex: true, term: term, fields: fields)
        case .lease(let change, let index):
            fields.common(node: node, term: change.term, index: index, leader: viewLeader, monoNs: change.at)
            fields.add(.fromMonoNs, change.at.nanoseconds)
            // An unbounded lease (a one-node cluster) has no deadline: null. An ended one ends now.
            fields.add(.untilMonoNs, change.until?.nanoseconds)
            fields.add(.ends, change.ends)
            self.init(kind: .lease, index: index, changesIndex: changesIndex, term: change.term, fields: fields,
                      isExtension: !changesIndex && !change.ends)
        }
    }

    private init(kind: LeadershipStreamEvent.Kind, index: UInt64, changesIndex: Bool, term: Term, fields: JSONFields, isExtension: Bool = false) {
        self.index = index
        self.changesIndex = changesIndex
        self.isExtension = isExtension
        self.term = term
        let head = "id: \(index)\nevent: \(kind.rawValue)\ndata: {\(fields.text),\"\(LeadershipStreamEvent.Key.isLeader.rawValue)\":"
        leading = StreamChunk(head + "true}\n\n")
        following = StreamChunk(head + "false}\n\n")
    }
}

/// JSON object members written in a fixed order, by hand: the values are numbers, booleans, null
/// and node IDs, so no escaping is ever needed.
struct JSONFields {
    private(set) var text = ""

    mutating func add(_ key: LeadershipStreamEvent.Key, _ value: UInt64?) {
        append(key, value.map(String.init) ?? "null")
    }

    mutating func add(_ key: LeadershipStreamEvent.Key, _ value: Double?) {
        append(key, value.map { String(format3($0)) } ?? "null")
    }

    mutating func add(_ key: LeadershipStreamEvent.Key, _ value: Bool) { append(key, value ? "true" : "false") }

    /// The members every event has, but `is_leader` (judged when written, see ``EncodedLeadershipEvent``).
    mutating func common(node: NodeID, term: Term, index: UInt64, leader: NodeID?, monoNs: MonotonicInstant) {
        add(.node, node.rawValue)
        add(.term, term.rawValue)
        add(.index, index)
        add(.leader, leader?.rawValue)
        add(.monoNs, monoNs.nanoseconds)
    }

    private mutating func append(_ key: LeadershipStreamEvent.Key, _ value: String) {
        if !text.isEmpty { text += "," }
        text += "\"\(key.rawValue)\":\(value)"
    }
}

/// A number with at most three decimals and no exponent, e.g. `12.5`.
private func format3(_ value: Double) -> String {
    let thousandths = (value * 1000).rounded()
    let whole = Int64(thousandths / 1000)
    let fraction = Int64(abs(thousandths.truncatingRemainder(dividingBy: 1000)))
    if fraction == 0 { return "\(whole)" }
    var digits = String(fraction)
    while digits.count < 3 { digits = "0" + digits }
    while digits.hasSuffix("0") { digits.removeLast() }
    return "\(whole).\(digits)"
}
