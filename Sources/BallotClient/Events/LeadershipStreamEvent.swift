import BallotRuntime
import FoundationEssentials

/// One event of a node's `GET /events` stream, typed as the watch contract (docs/applications.md,
/// "`GET /events`") defines it:
///
///     id: <index>
///     event: <state|elected|lost|lease>
///     data: {"node":1,"term":5,"index":12,"leader":1,"is_leader":true,"mono_ns":…, …}
///
/// Decoding is strict: every key the contract names must be present (absent values are `null`,
/// never omitted), so a stream from a different or broken server is refused, not half-understood.
public struct LeadershipStreamEvent: Sendable, Equatable {
    /// What happened, with the fields only that kind carries.
    public enum Detail: Sendable, Equatable {
        /// The node's whole current state: always the first event of a stream. `leaseUntil` is the
        /// deadline of this node's lease (`nil` without one, or when `leaseUnbounded`).
        case state(leaseUntil: MonotonicInstant?, leaseUnbounded: Bool)
        /// A leader became known: `isSelf` when it is this node.
        case elected(isSelf: Bool, leaderlessMilliseconds: Double?)
        /// The known leader `previous` is gone.
        case lost(previous: UInt64)
        /// This node's lease deadline moved: from `from` on it leads exactly while the clock is before
        /// `until` (`nil`: no end, a cluster of one), until the next lease event; `ends` says it ended.
        case lease(from: MonotonicInstant, until: MonotonicInstant?, ends: Bool)
    }

    /// The node the stream comes from.
    public var node: UInt64
    public var term: UInt64
    /// The view's change index after the event (also the SSE `id`).
    public var index: UInt64
    /// The leader the node knows after the event, if any.
    public var leader: UInt64?
    /// Whether the node held a valid lease when it wrote the event.
    public var isLeader: Bool
    /// CLOCK_MONOTONIC of the node's machine when the event happened.
    public var at: MonotonicInstant
    public var detail: Detail

    public init(node: UInt64, term: UInt64, index: UInt64, leader: UInt64?, isLeader: Bool, at: MonotonicInstant,
                detail: Detail) {
        self.node = node
        self.term = term
        self.index = index
        self.leader = leader
        self.isLeader = isLeader
        self.at = at
        self.detail = detail
    }

    /// The SSE event type.
    public var kind: Kind {
        switch detail {
        case .state: .state
        case .elected: .elected
        case .lost: .lost
        case .lease: .lease
        }
    }

    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        /// An event type the contract does not define (a newer server); the stream stays usable.
        case unknownType(String)
        /// The data is not the contract's JSON object for its type.
        case malformed(type: String, detail: String)

        public var description: String {
            switch self {
            case .unknownType(let type): "unknown event type \"\(type)\" (ignored)"
            case .malformed(let type, let detail):
                "a \"\(type)\" event whose data does not follow the /events contract: \(detail)"
            }
        }
    }

    /// Decodes one dispatched SSE event.
    public init(_ event: ServerSentEvent) throws(Problem) {
        guard let kind = Kind(rawValue: event.type) else { throw .unknownType(event.type) }
        let type = kind.rawValue
        let data = Data(event.data.utf8)
        let common: Common
        do {
            common = try JSONDecoder().decode(Common.self, from: data)
        } catch {
            throw .malformed(type: type, detail: Self.explain(error))
        }
        node = common.node
        term = common.term
        index = common.index
        leader = common.leader
        isLeader = common.isLeader
        at = MonotonicInstant(nanoseconds: common.monoNanoseconds)
        do {
            switch kind {
            case .state:
                let fields = try JSONDecoder().decode(StateFields.self, from: data)
                detail = .state(leaseUntil: fields.leaseUntil.map(MonotonicInstant.init(nanoseconds:)),
                                leaseUnbounded: fields.leaseUnbounded)
            case .elected:
                let fields = try JSONDecoder().decode(ElectedFields.self, from: data)
                detail = .elected(isSelf: fields.isSelf, leaderlessMilliseconds: fields.leaderlessMilliseconds)
            case .lost:
                let fields = try JSONDecoder().decode(LostFields.self, from: data)
                detail = .lost(previous: fields.previous)
            case .lease:
                let fields = try JSONDecoder().decode(LeaseFields.self, from: data)
                detail = .lease(from: MonotonicInstant(nanoseconds: fields.from),
                                until: fields.until.map(MonotonicInstant.init(nanoseconds:)), ends: fields.ends)
            }
        } catch {
            throw .malformed(type: type, detail: Self.explain(error))
        }
        if case .state(let until, let unbounded) = detail, until != nil && unbounded {
            throw .malformed(type: type, detail: "a lease with a deadline cannot be unbounded")
        }
        if case .lease(let from, let until, let ends) = detail, ends != (until.map { $0 <= from } ?? false) {
            throw .malformed(type: type, detail: "\"ends\" contradicts from_mono_ns/until_mono_ns")
        }
    }

    private static func explain(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "missing key \"\(key.stringValue)\""
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "wrong type at \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\""
        case DecodingError.dataCorrupted: "not a JSON object"
        default: "\(error)"
        }
    }

    // Every key is decoded with `decode`, never `decodeIfPresent`: a missing key is an error. The
    // keys are the contract's own (``Key``), which the node's encoder writes.

    private struct Common: Decodable {
        var node: UInt64
        var term: UInt64
        var index: UInt64
        var leader: UInt64?
        var isLeader: Bool
        var monoNanoseconds: UInt64

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            node = try container.decode(UInt64.self, forKey: .node)
            term = try container.decode(UInt64.self, forKey: .term)
            index = try container.decode(UInt64.self, forKey: .index)
            leader = try container.decode(UInt64?.self, forKey: .leader)
            isLeader = try container.decode(Bool.self, forKey: .isLeader)
            monoNanoseconds = try container.decode(UInt64.self, forKey: .monoNs)
        }
    }

    private struct StateFields: Decodable {
        var leaseUntil: UInt64?
        var leaseUnbounded: Bool

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            leaseUntil = try container.decode(UInt64?.self, forKey: .leaseUntilMonoNs)
            leaseUnbounded = try container.decode(Bool.self, forKey: .leaseUnbounded)
        }
    }

    private struct ElectedFields: Decodable {
        var isSelf: Bool
        var leaderlessMilliseconds: Double?

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            isSelf = try container.decode(Bool.self, forKey: .isSelf)
            leaderlessMilliseconds = try container.decode(Double?.self, forKey: .leaderlessMs)
        }
    }

    private struct LostFields: Decodable {
        var previous: UInt64

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            previous = try container.decode(UInt64.self, forKey: .previous)
        }
    }

    private struct LeaseFields: Decodable {
        var from: UInt64
        var until: UInt64?
        var ends: Bool

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            from = try container.decode(UInt64.self, forKey: .fromMonoNs)
            until = try container.decode(UInt64?.self, forKey: .untilMonoNs)
            ends = try container.decode(Bool.self, forKey: .ends)
        }
    }
}
