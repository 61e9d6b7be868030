import BallotCore

/// Converting wall-clock settings into the logical ticks of the core.
///
/// The tick is a fifth of the heartbeat interval, rounded down to whole milliseconds, and kept
/// within 1…10 ms: `clamp(⌊heartbeat / 5⌋ₘₛ, 1ms, 10ms)`. With the defaults (heartbeat 100 ms,
/// election timeout 1 s) that is 10 ms, T = 100 ticks and a heartbeat every 10 ticks.
///
/// - At least five ticks per heartbeat keep the heartbeat's rounding error at 20% or less.
/// - Not above 10 ms, so a timeout is never more than 10 ms late and the lease (which loses one
///   tick, see `RaftConfiguration.leaseTicks`) stays tight even with slow heartbeats.
/// - Not below 1 ms: finer timers cost wake-ups and scheduling jitter would dominate anyway.
///
/// Durations are converted by rounding down to whole ticks, so the effective heartbeat and timeout
/// are never longer than configured. Every member must use the same election timeout and heartbeat
/// interval, or the lease arithmetic no longer holds.
extension NodeConfiguration {
    /// How often the runtime calls the core's `tick()`.
    public var tickInterval: Duration { Self.tickInterval(heartbeatInterval: heartbeatInterval) }

    /// T in ticks; at least ``minimumElectionTimeoutTicks``.
    public var electionTimeoutTicks: UInt64 { Self.ticks(electionTimeout, per: tickInterval) }

    /// The heartbeat interval in ticks; at least 1.
    public var heartbeatIntervalTicks: UInt64 { Self.ticks(heartbeatInterval, per: tickInterval) }

    /// The core's configuration: these timings, the preemption window and the lease cap, and the
    /// core's defaults for PreVote, CheckQuorum, leader stickiness and the clock-drift bound.
    public var raftConfiguration: RaftConfiguration {
        RaftConfiguration(electionTimeoutTicks: electionTimeoutTicks, heartbeatIntervalTicks: heartbeatIntervalTicks,
                          preemptAfterTicks: max(Self.ticks(preemptAfter, per: tickInterval), electionTimeoutTicks),
                          leaseLimitTicks: leaseDuration.map { Self.ticks($0, per: tickInterval) })
    }

    /// `clamp(⌊heartbeat / 5⌋ₘₛ, 1ms, 10ms)`.
    public static func tickInterval(heartbeatInterval: Duration) -> Duration {
        let millisecond: Int64 = 1_000_000
        let heartbeat = heartbeatInterval.wholeNanoseconds ?? Int64.max
        let milliseconds = heartbeat / 5 / millisecond
        return .milliseconds(min(max(milliseconds, 1), 10))
    }

    /// ⌊duration / tick⌋, 0 for non-positive durations.
    static func ticks(_ duration: Duration, per tick: Duration) -> UInt64 {
        guard let nanoseconds = duration.wholeNanoseconds, nanoseconds > 0,
              let tickNanoseconds = tick.wholeNanoseconds, tickNanoseconds > 0
        else { return 0 }
        return UInt64(nanoseconds / tickNanoseconds)
    }
}
