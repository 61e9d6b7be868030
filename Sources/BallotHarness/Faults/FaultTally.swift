/// What a cluster's timeline shows about the faults themselves, so that a run which injected nothing,
/// forced no election or observed nothing while a fault held cannot pass as a clean one.
///
/// Only what happened *after* a fault began counts: the start-up election and the probes taken
/// before the first fault or between a heal and the next fault prove nothing about faults.
public struct FaultTally: Sendable, Equatable {
    /// Faults that began (each has a `faultBegan` event).
    public var faults = 0
    /// Distinct terms in which some node was seen elected at or after the first fault began, newer
    /// than every term elected before it (a restarted node that learns the current leader prints
    /// `elected` too, in a term it is not the first to see).
    public var electionsAfterFaults = 0
    /// Distinct terms seen elected at all, start-up included.
    public var electionsObserved = 0
    /// Probes (`/leader`, `/metrics`) answered within a fault's window: sent at or after its start,
    /// received at or before its heal.
    public var probesDuringFaults = 0
    /// Probes answered at any time, the stable-leader waits and the start-up included.
    public var probes = 0
    /// Faults with no probe answered within their window, by number.
    public var unobservedFaults: [Int] = []
    /// Faults expected to force an election (``tally(_:forcingElection:)``) that began.
    public var electionForcingFaults = 0
    /// Faults expected to force an election after whose start no node was seen elected in a newer
    /// term before the next fault began, by number.
    public var faultsWithoutElection: [Int] = []
    /// Faults that began but were never marked healed, by number.
    public var unhealedFaults: [Int] = []

    public init() {}

    /// Tallies `events`. `forcingElection` are the numbers of faults that must be followed by an
    /// election (a SIGKILL or SIGSTOP of the node leading when the fault began).
    public static func tally(_ events: [TimelineEvent], forcingElection: Set<Int> = []) -> FaultTally {
        var began: [(number: Int, at: UInt64)] = []
        var healed: [Int: UInt64] = [:]
        var elected: [(term: UInt64, at: UInt64)] = []
        var probes: [(sent: UInt64, received: UInt64)] = []
        for event in events {
            switch event {
            case .faultBegan(let number, _, _, let at): began.append((number, at))
            case .faultHealed(let number, let at): healed[number] = at
            case .leadership(let line) where line.kind == .elected: elected.append((line.term, line.monotonicNanoseconds))
            case .probe(_, _, _, _, let sent, let received): probes.append((sent, received))
            default: break
            }
        }
        began.sort { $0.at < $1.at }
        var tally = FaultTally()
        tally.faults = began.count
        tally.probes = probes.count
        tally.electionsObserved = Set(elected.map(\.term)).count
        if let first = began.first {
            let termBefore = elected.filter { $0.at < first.at }.map(\.term).max() ?? 0
            tally.electionsAfterFaults = Set(elected.filter { $0.at >= first.at && $0.term > termBefore }.map(\.term)).count
        }
        for (index, fault) in began.enumerated() {
            if let heal = healed[fault.number] {
                let answered = probes.count { $0.sent >= fault.at && $0.received <= heal }
                tally.probesDuringFaults += answered
                if answered == 0 { tally.unobservedFaults.append(fault.number) }
            } else {
                tally.unhealedFaults.append(fault.number)
            }
            if forcingElection.contains(fault.number) {
                tally.electionForcingFaults += 1
                // A newer term than any elected before: a restarted or resumed node learning the
                // current leader also prints `elected`, but in the term it already had.
                let next = index + 1 < began.count ? began[index + 1].at : .max
                let termBefore = elected.filter { $0.at < fault.at }.map(\.term).max() ?? 0
                if !elected.contains(where: { $0.at >= fault.at && $0.at < next && $0.term > termBefore }) {
                    tally.faultsWithoutElection.append(fault.number)
                }
            }
        }
        return tally
    }

    /// Two clusters' tallies together. Fault numbers are per cluster, so the lists of numbers are
    /// only concatenated: name faults per cluster (``FaultSuite/Report/tallyByClusterSize``).
    public static func + (a: FaultTally, b: FaultTally) -> FaultTally {
        var sum = a
        sum.faults += b.faults
        sum.electionsAfterFaults += b.electionsAfterFaults
        sum.electionsObserved += b.electionsObserved
        sum.probesDuringFaults += b.probesDuringFaults
        sum.probes += b.probes
        sum.unobservedFaults += b.unobservedFaults
        sum.electionForcingFaults += b.electionForcingFaults
        sum.faultsWithoutElection += b.faultsWithoutElection
        sum.unhealedFaults += b.unhealedFaults
        return sum
    }
}
