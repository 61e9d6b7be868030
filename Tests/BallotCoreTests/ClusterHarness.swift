import BallotCore
import Testing

// A deterministic in-memory cluster for any `ElectionAlgorithm`, used by the Bully and Ring tests:
// nodes tick in ascending ID order, messages are delivered FIFO one hop per round, nodes can be
// crashed (they stop and lose what is addressed to them) and restarted from their durable state,
// and directed links can be cut. Every send, persist and leadership change is recorded.

/// A message on its way, with the round it was sent in.
struct Packet: Hashable, CustomStringConvertible {
    var from: NodeID
    var to: NodeID
    var message: Message
    var description: String { "\(from)→\(to) \(message.kind)(\(message.term))" }
}

struct ClusterHarness<Node: ElectionAlgorithm> {
    typealias Factory = (NodeID, HardState) -> Node

    let ids: [NodeID]
    private(set) var nodes: [NodeID: Node] = [:]
    private(set) var crashed: Set<NodeID> = []
    private(set) var inFlight: [Packet] = []
    /// Every message sent, in order (delivered or not).
    private(set) var sent: [Packet] = []
    /// Every action, with the node that produced it.
    private(set) var history: [(node: NodeID, action: Action)] = []
    private(set) var durable: [NodeID: HardState] = [:]
    private var blocked: Set<[NodeID]> = []
    private let make: Factory

    init(size: Int, make: @escaping Factory) {
        ids = (1...size).map { NodeID(UInt64($0))! }
        self.make = make
        for id in ids {
            nodes[id] = make(id, .initial)
            durable[id] = .initial
        }
    }

    // MARK: Inspection

    func status(_ id: NodeID) -> NodeStatus { nodes[id]!.status }
    var live: [NodeID] { ids.filter { !crashed.contains($0) } }
    var leaders: [NodeID] { live.filter { status($0).role == .leader } }
    /// The one leader every live node follows in its term, if there is one.
    var agreedLeader: NodeID? {
        guard leaders.count == 1, let leader = leaders.first else { return nil }
        let term = status(leader).term
        return live.allSatisfy({ status($0).leader == leader && status($0).term == term }) ? leader : nil
    }
    var mark: Int { sent.count }
    func sent(since mark: Int) -> [Packet] { Array(sent[mark...]) }
    func sent(_ kind: MessageKind, since mark: Int = 0) -> [Packet] { sent[mark...].filter { $0.message.kind == kind } }
    func actions(of id: NodeID) -> [Action] { history.filter { $0.node == id }.map(\.action) }

    // MARK: Faults

    mutating func crash(_ id: NodeID) {
        crashed.insert(id)
        inFlight.removeAll { $0.to == id }
    }

    /// A fresh instance from the node's durable state, as after a crash.
    mutating func restart(_ id: NodeID) {
        crashed.remove(id)
        nodes[id] = make(id, durable[id]!)
    }

    mutating func cut(_ a: NodeID, _ b: NodeID) {
        blocked.insert([a, b])
        blocked.insert([b, a])
    }

    mutating func heal() { blocked.removeAll() }

    // MARK: Driving

    mutating func tick(_ id: NodeID) {
        guard !crashed.contains(id) else { return }
        let actions = nodes[id]!.tick()
        record(actions, of: id)
    }

    mutating func tickAll() {
        for id in ids { tick(id) }
    }

    /// Hands `message` to `to` as if `from` had sent it.
    mutating func inject(_ message: Message, from: NodeID, to: NodeID) {
        let actions = nodes[to]!.receive(message, from: from)
        record(actions, of: to)
    }

    /// Delivers everything in flight now, but not what that causes: one network hop.
    mutating func deliverRound() {
        let round = inFlight
        inFlight.removeAll()
        for packet in round {
            guard !crashed.contains(packet.to), !blocked.contains([packet.from, packet.to]) else { continue }
            inject(packet.message, from: packet.from, to: packet.to)
        }
    }

    /// One tick of the cluster: every node ticks, then one hop of messages is delivered. A hop per
    /// tick keeps round trips within a tick, as a LAN does with 10 ms ticks.
    mutating func step() {
        tickAll()
        deliverRound()
    }

    mutating func run(ticks: Int) {
        for _ in 0..<ticks { step() }
    }

    /// Steps until `condition` holds (checked before each step). Returns the steps taken, or nil.
    @discardableResult
    mutating func runUntil(maxTicks: Int, _ condition: (Self) -> Bool) -> Int? {
        for ticks in 0...maxTicks {
            if condition(self) { return ticks }
            if ticks < maxTicks { step() }
        }
        return nil
    }

    private mutating func record(_ actions: [Action], of id: NodeID) {
        for action in actions {
            history.append((id, action))
            switch action {
            case .send(let message, let to):
                let packet = Packet(from: id, to: to, message: message)
                sent.append(packet)
                inFlight.append(packet)
            case .persist(let state):
                durable[id] = state
            default:
                break
            }
        }
    }
}

extension Array where Element == Action {
    var leaderChanges: [LeaderInfo?] {
        compactMap { if case .leaderChanged(let info) = $0 { .some(info) } else { nil } }
    }
    var roles: [Role] {
        compactMap { if case .roleChanged(let role, _) = $0 { role } else { nil } }
    }
}
