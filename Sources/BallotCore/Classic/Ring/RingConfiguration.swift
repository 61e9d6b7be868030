/// Tunables of the Ring core, in logical ticks.
///
/// The shell chooses the tick length (for example 10 ms) and converts durations to ticks, exactly
/// as for ``RaftConfiguration``.
public struct RingConfiguration: Hashable, Sendable {
    /// T: a member that has not heard its coordinator for a timeout drawn uniformly from [T, 2T)
    /// starts an election (the same detector as Raft's election timer).
    public var failureTimeoutTicks: UInt64
    /// How often the coordinator sends heartbeats. Must be below T.
    public var heartbeatIntervalTicks: UInt64
    /// How long a forwarded election or elected message may go unacknowledged before the successor
    /// is taken for dead and skipped. It must exceed a round trip.
    public var ackTimeoutTicks: UInt64
    /// How long a member taking part in an election waits for its outcome before giving up on it
    /// (the token was lost). A token visits every member up to three times, so this must grow with
    /// the ring: at least a few round trips per member.
    public var electionTimeoutTicks: UInt64

    public init(
        failureTimeoutTicks: UInt64 = 10,
        heartbeatIntervalTicks: UInt64 = 1,
        ackTimeoutTicks: UInt64 = 2,
        electionTimeoutTicks: UInt64 = 40
    ) {
        self.failureTimeoutTicks = failureTimeoutTicks
        self.heartbeatIntervalTicks = heartbeatIntervalTicks
        self.ackTimeoutTicks = ackTimeoutTicks
        self.electionTimeoutTicks = electionTimeoutTicks
    }

    /// Checks the values make a working configuration.
    public func validate() throws(TimingConfigurationError) {
        try TimingConfigurationError.checkDetector(
            failureTimeoutTicks: failureTimeoutTicks, heartbeatIntervalTicks: heartbeatIntervalTicks)
        guard ackTimeoutTicks >= 1 else {
            throw .tooShort(setting: "acknowledgement timeout", ticks: ackTimeoutTicks, minimum: 1)
        }
        guard electionTimeoutTicks > ackTimeoutTicks else {
            throw .tooShort(setting: "election timeout", ticks: electionTimeoutTicks, minimum: ackTimeoutTicks + 1)
        }
    }
}

extension RingConfiguration {
    /// Ring with Raft's failure detector; acknowledgements are awaited as long as Bully's answers.
    /// An election's token passes up to three times round the ring, so the time it may take grows
    /// with the ring: 2T plus 2 ticks per member.
    public static func matching(electionTimeoutTicks t: UInt64, heartbeatIntervalTicks h: UInt64, members: Int) -> RingConfiguration {
        RingConfiguration(failureTimeoutTicks: t, heartbeatIntervalTicks: h, ackTimeoutTicks: max(2, t / 5),
                          electionTimeoutTicks: 2 * t + 2 * UInt64(members))
    }
}
