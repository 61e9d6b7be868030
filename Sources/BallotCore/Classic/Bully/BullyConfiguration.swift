/// Tunables of the Bully core, in logical ticks.
///
/// The shell chooses the tick length (for example 10 ms) and converts durations to ticks, exactly
/// as for ``RaftConfiguration``.
public struct BullyConfiguration: Hashable, Sendable {
    /// T: a member that has not heard its coordinator for a timeout drawn uniformly from [T, 2T)
    /// holds an election. The same detector as Raft's election timer, so that detection costs the
    /// same in both and the comparison measures the elections themselves.
    public var failureTimeoutTicks: UInt64
    /// How often the coordinator sends heartbeats. Must be below T.
    public var heartbeatIntervalTicks: UInt64
    /// How long a member holding an election waits for an answer from a higher ID before it
    /// declares itself coordinator (Garcia-Molina's "time-out T" for the OK messages). It must
    /// exceed a round trip.
    public var answerTimeoutTicks: UInt64
    /// How long a member that was answered waits for the coordinator announcement before it
    /// holds the election again (the answering member may have crashed meanwhile).
    public var coordinatorTimeoutTicks: UInt64

    public init(
        failureTimeoutTicks: UInt64 = 10,
        heartbeatIntervalTicks: UInt64 = 1,
        answerTimeoutTicks: UInt64 = 2,
        coordinatorTimeoutTicks: UInt64 = 10
    ) {
        self.failureTimeoutTicks = failureTimeoutTicks
        self.heartbeatIntervalTicks = heartbeatIntervalTicks
        self.answerTimeoutTicks = answerTimeoutTicks
        self.coordinatorTimeoutTicks = coordinatorTimeoutTicks
    }

    /// Checks the values make a working configuration.
    public func validate() throws(TimingConfigurationError) {
        try TimingConfigurationError.checkDetector(
            failureTimeoutTicks: failureTimeoutTicks, heartbeatIntervalTicks: heartbeatIntervalTicks)
        guard answerTimeoutTicks >= 1 else {
            throw .tooShort(setting: "answer timeout", ticks: answerTimeoutTicks, minimum: 1)
        }
        guard coordinatorTimeoutTicks > answerTimeoutTicks else {
            throw .tooShort(
                setting: "coordinator timeout", ticks: coordinatorTimeoutTicks, minimum: answerTimeoutTicks + 1)
        }
    }
}

extension BullyConfiguration {
    /// Bully with Raft's failure detector (timeouts from [T, 2T), the same heartbeat), so that a
    /// comparison measures the elections and not the detectors; answers are awaited max(2, T/5) ticks.
    public static func matching(electionTimeoutTicks t: UInt64, heartbeatIntervalTicks h: UInt64) -> BullyConfiguration {
        BullyConfiguration(failureTimeoutTicks: t, heartbeatIntervalTicks: h,
                           answerTimeoutTicks: max(2, t / 5), coordinatorTimeoutTicks: t)
    }
}
