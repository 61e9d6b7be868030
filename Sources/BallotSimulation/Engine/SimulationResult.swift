import BallotCore

/// What one simulated history produced: violations, counts, timings, and an optional trace.
public struct SimulationResult: Sendable {
    public var options: SimulationOptions
    public var nodeCount: Int
    public var violations: [Violation] = []
    public var eventsProcessed = 0
    public var faultsInjected: [FaultKind: Int] = [:]
    public var campaignsStarted = 0
    /// Campaigns won, i.e. elections that produced a leader.
    public var elections = 0
    public var leaderChanges = 0
    public var messagesSent = 0
    public var messagesDropped = 0
    /// Virtual time from the final heal until every node knew the same leader; `nil` if never.
    public var timeToStableLeaderMicroseconds: UInt64?
    /// Virtual time during which two or more nodes believed they led (any terms).
    public var overlappingLeadershipMicroseconds: UInt64 = 0
    public var trace: [String] = []

    public var passed: Bool { violations.isEmpty }
    public var totalFaults: Int { faultsInjected.values.reduce(0, +) }
}
