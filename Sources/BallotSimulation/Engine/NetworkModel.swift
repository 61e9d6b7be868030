import BallotCore

/// A directed link between two nodes.
struct Link: Hashable {
    let from: NodeID
    let to: NodeID
}

/// Decides the fate of every message: dropped, delayed, duplicated.
struct NetworkModel {
    var profile: NetworkProfile
    var random: SplitMix64
    /// Active network faults, keyed by fault number so each can be undone on its own.
    var cuts: [Int: Set<Link>] = [:]
    var lossBursts: [Int: Double] = [:]
    var duplicationBursts: [Int: Double] = [:]
    var delayBursts: [Int: UInt64] = [:]
    /// Background loss and duplication apply only while faults are injected.
    var faultsActive = true

    init(profile: NetworkProfile, random: SplitMix64) {
        self.profile = profile
        self.random = random
    }

    func isCut(_ link: Link) -> Bool { cuts.values.contains { $0.contains(link) } }

    /// The delays after which copies of a message arrive; empty when it is lost. `cause` explains a loss.
    mutating func deliveries(on link: Link) -> (delays: [UInt64], cause: String?) {
        if isCut(link) { return ([], "partition") }
        let loss = faultsActive ? profile.lossProbability + lossBursts.values.reduce(0, +) : 0
        if loss > 0 && Double.random(in: 0..<1, using: &random) < loss { return ([], "loss") }
        var delays = [delay()]
        let duplication = faultsActive ? profile.duplicationProbability + duplicationBursts.values.reduce(0, +) : 0
        if duplication > 0 && Double.random(in: 0..<1, using: &random) < duplication { delays.append(delay()) }
        return (delays, nil)
    }

    private mutating func delay() -> UInt64 {
        var d = UInt64.random(in: profile.minDelayMicroseconds...profile.maxDelayMicroseconds, using: &random)
        if faultsActive && Double.random(in: 0..<1, using: &random) < profile.tailProbability {
            d *= UInt64.random(in: 1...profile.tailFactor, using: &random)
        }
        return d * (delayBursts.values.max() ?? 1)
    }

    mutating func undo(fault number: Int) {
        cuts[number] = nil
        lossBursts[number] = nil
        duplicationBursts[number] = nil
        delayBursts[number] = nil
    }

    mutating func healAll() {
        cuts.removeAll()
        lossBursts.removeAll()
        duplicationBursts.removeAll()
        delayBursts.removeAll()
        faultsActive = false
    }
}
