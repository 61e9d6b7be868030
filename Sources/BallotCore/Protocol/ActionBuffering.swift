/// The pending-actions buffer every core fills while it handles one input, and drains as the
/// input's result.
protocol ActionBuffering {
    var actions: [Action] { get set }
}

extension ActionBuffering {
    mutating func emit(_ action: Action) { actions.append(action) }

    mutating func send(_ message: Message, to peer: NodeID) { emit(.send(message, to: peer)) }

    mutating func drainActions() -> [Action] {
        defer { actions.removeAll(keepingCapacity: true) }
        return actions
    }
}

extension SplitMix64 {
    /// A timeout drawn uniformly from [T, 2T) ticks, so that nodes rarely time out together
    /// (Raft §5.2; Bully and Ring use the same detector).
    mutating func randomizedTimeout(base t: UInt64) -> UInt64 {
        t + UInt64.random(in: 0..<t, using: &self)
    }
}
