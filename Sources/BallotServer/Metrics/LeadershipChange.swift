import BallotCore

/// One change of leadership as this node saw it, for the status page.
public struct LeadershipChange: Hashable, Sendable {
    /// The new leader and the term it leads.
    public var leader: LeaderInfo
    /// When this node learned of it, on the monotonic clock.
    public var observedAt: ContinuousClock.Instant
    /// The same moment as Unix seconds, derived from the wall-clock reading passed to
    /// ``MetricsRecorder/recentLeadershipChanges(now:wallClockNow:)``.
    public var unixTime: Double
    /// How long this node had been without a leader before learning of this one; `nil` if it went
    /// straight from one leader to the next, or was started after the interval began.
    public var leaderlessDuration: Duration?

    public init(
        leader: LeaderInfo, observedAt: ContinuousClock.Instant, unixTime: Double, leaderlessDuration: Duration?
    ) {
        self.leader = leader
        self.observedAt = observedAt
        self.unixTime = unixTime
        self.leaderlessDuration = leaderlessDuration
    }
}
